"""The demo course's surveys load over HTTP, reproduce the seed's published figures, give the per-session
forms a few answers, and a second run adds nothing."""

import json

import pytest
import requests

from demo.load import COURSE, load
from tests.conftest import SERVICE_TOKEN, auth_headers


@pytest.fixture
def demo_env(live_system, monkeypatch):
    monkeypatch.setenv("SERVICE_TOKEN", SERVICE_TOKEN)
    for service in ("registration", "certificates", "feedback"):
        monkeypatch.setenv(f"{service.upper()}_URL", live_system.urls[service])
    return live_system.urls["feedback"] + "/api/v1"


def get(url, **params):
    response = requests.get(url, headers=auth_headers(), params=params, timeout=30)
    response.raise_for_status()
    return response.json()


def test_the_demo_surveys_load_once_and_show_every_chart(demo_env):
    course = json.loads(COURSE.read_text(encoding="utf-8"))
    summary = load(course)
    assert "45 responses, 45 new" in summary and "15 session feedback forms (15 new" in summary

    surveys = get(f"{demo_env}/events/1/surveys")["items"]
    expert = next(s for s in surveys if s["kind"] == "course")
    assert expert["anonymous"] and expert["responses_count"] == 45 and expert["status"] == "open"
    results = get(f"{demo_env}/surveys/{expert['id']}/results")
    by_text = {q["text"]: q for q in results["questions"]}
    time = next(
        o
        for o in by_text["С какими трудностями вы сталкиваетесь при ведении аккаунтов?"]["options"]
        if o["label"] == "Недостаток времени"
    )
    planning = next(
        o
        for o in by_text["Каких навыков вам не хватает?"]["options"]
        if o["label"].startswith("Контент-планирование")
    )
    assert round(time["percent"]) == 78 and round(planning["percent"]) == 64
    first_time = by_text["Впервые ли вы участвуете в подобной программе?"]["options"][0]
    assert (first_time["label"], first_time["percent"]) == ("Да", 100.0)
    kinds = {q["kind"] for q in results["questions"] if not q["withheld"]}
    assert {"single", "multiple", "rating", "nps"} <= kinds

    forms = [s for s in surveys if s["kind"] == "session"]
    assert len(forms) == 15 and all(f["answerable"] for f in forms)  # the course is over: all open
    answered = [f for f in forms if f["responses_count"]]
    assert len(answered) == 4 and all(f["responses_count"] >= 9 for f in answered)
    session_results = get(f"{demo_env}/surveys/{answered[0]['id']}/results")
    rating, improve = session_results["questions"]
    assert rating["withheld"] is False and rating["mean"] is not None and improve["texts"]

    again = load(course)
    assert "45 responses, 0 new" in again and "(0 new, 0 new answers)" in again
    assert get(f"{demo_env}/surveys/{expert['id']}")["responses_count"] == 45
