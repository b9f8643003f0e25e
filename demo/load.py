"""Loads the demo course (course.json beside this file) through the services' HTTP APIs.

    python -m demo.load [--file PATH]

The services must be running (`make run` starts them and calls this). Idempotent: whatever already
exists (the event by its slug, sessions by day, time and title, participants by e-mail, the survey by
its title, its anonymous responses by their fixed demo browser keys, per-session forms by session, their
answers by participant) is left alone, so running it again adds nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import requests

from eventops.config import Settings, service_url
from eventops.service_auth import bearer
from services.registration.regions import match_region

COURSE = Path(__file__).with_name("course.json")
TIMEOUT = (3, 30)

#: course.json's session kinds → registration's SessionKind; anything unknown becomes "other"
SESSION_KINDS = {
    "lecture": "lecture",
    "training": "training",
    "expert_session": "expert_session",
    "strategic_session": "strategic_session",
    "workshop": "workshop",
    "opening": "opening",
    "closing": "closing",
}

EVENT_FIELDS = ("slug", "title", "organiser", "place", "starts_on", "ends_on", "programme_kind")
PARTICIPANT_FIELDS = (
    "surname",
    "first_name",
    "patronymic",
    "gender",
    "email",
    "phone",
    "organisation",
    "position",
    "birth_date",
    "snils",
)


class LoadError(Exception):
    pass


class Api:
    """A thin JSON client for one service that turns every unexpected answer into a LoadError."""

    def __init__(self, name: str, token: str):
        self.name = name
        self.base_url = service_url(name)
        self.http = requests.Session()
        self.http.headers.update(bearer(token))

    def call(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), **kwargs
    ) -> requests.Response:
        url = self.base_url + "/api/v1" + path
        try:
            response = self.http.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise LoadError(f"{self.name} does not answer at {self.base_url}: {exc}") from exc
        if response.status_code not in ok:
            raise LoadError(f"{method} {url} answered {response.status_code}: {describe(response)}")
        return response

    def get(self, path: str) -> Any:
        return self.call("GET", path).json()

    def post(self, path: str, payload: dict, *, ok: tuple[int, ...] = (201,)) -> requests.Response:
        return self.call("POST", path, json=payload, ok=ok)


def describe(response: requests.Response) -> str:
    """The useful part of an error answer: an RFC 9457 problem's detail and field errors, or the text."""
    try:
        problem = response.json()
    except ValueError:
        return response.text[:500]
    if not isinstance(problem, dict):
        return str(problem)[:500]
    parts = [str(problem.get("detail") or problem.get("title") or "")]
    for error in problem.get("errors") or []:
        if isinstance(error, dict):
            parts.append(f"{error.get('field')}: {error.get('message') or error.get('code')}")
        else:
            parts.append(str(error))
    return "; ".join(part for part in parts if part)[:1000]


def ensure_event(registration: Api, event: dict) -> tuple[dict, bool]:
    def find() -> dict | None:
        items = registration.get("/events")["items"]
        return next((item for item in items if item["slug"] == event["slug"]), None)

    existing = find()
    if existing:
        return existing, False
    payload = {field: event[field] for field in EVENT_FIELDS if field in event}
    response = registration.post("/events", payload, ok=(201, 409))
    if response.status_code == 409:  # created meanwhile by a concurrent run
        return find(), False
    return response.json(), True


def session_payload(session: dict, starts_on: date) -> dict:
    return {
        "day": (starts_on + timedelta(days=int(session["day"]) - 1)).isoformat(),
        "starts_at": session["starts_at"],
        "ends_at": session["ends_at"],
        "title": session["title"],
        "kind": SESSION_KINDS.get(session.get("kind", ""), "other"),
        "speakers": session.get("speakers") or "",
        "room": session.get("room") or "",
        "academic_hours": int(session.get("academic_hours") or 0),
    }


def session_key(session: dict) -> tuple[str, str, str]:
    return session["day"], session["starts_at"][:5], session["title"].strip()


def ensure_sessions(registration: Api, event: dict, sessions: list[dict]) -> int:
    starts_on = date.fromisoformat(event["starts_on"])
    existing = {session_key(s) for s in registration.get(f"/events/{event['id']}/sessions")["items"]}
    created = 0
    for session in sessions:
        payload = session_payload(session, starts_on)
        if session_key(payload) in existing:
            continue
        registration.post(f"/events/{event['id']}/sessions", payload)
        existing.add(session_key(payload))
        created += 1
    return created


def participant_payload(person: dict, warnings: list[str]) -> dict:
    payload = {field: person[field] for field in PARTICIPANT_FIELDS if person.get(field) is not None}
    region = person.get("region")
    if region:
        match = match_region(region)
        if match is None:
            warnings.append(f"region «{region}» of {person['email']} is not recognised; left empty")
        else:
            payload["region_code"] = match.code
    return payload


def ensure_participants(
    registration: Api, event: dict, people: list[dict], warnings: list[str]
) -> tuple[int, int]:
    """Returns (created, already there)."""
    path = f"/events/{event['id']}/participants"
    known = {item["email"].strip().lower() for item in registration.get(path)["items"]}
    created = skipped = 0
    for person in people:
        if person["email"].strip().lower() in known:
            skipped += 1
            continue
        response = registration.post(path, participant_payload(person, warnings), ok=(201, 409))
        if response.status_code == 409:
            skipped += 1
        else:
            created += 1
    return created, skipped


def question_payload(question: dict) -> dict:
    payload = {"kind": question["kind"], "text": question["text"]}
    for field in ("description", "required", "allow_other"):
        if field in question:
            payload[field] = question[field]
    if question.get("options"):
        payload["options"] = [{"label": label} for label in question["options"]]
    return payload


def ensure_survey(feedback: Api, event: dict, survey: dict) -> tuple[dict, bool]:
    """The course survey, found by its title, created and opened if missing."""
    existing = feedback.get(f"/events/{event['id']}/surveys")["items"]
    found = next((item for item in existing if item["title"] == survey["title"]), None)
    created = found is None
    if created:
        payload = {"title": survey["title"], "questions": [question_payload(q) for q in survey["questions"]]}
        for field in ("anonymous", "min_group_size"):
            if field in survey:
                payload[field] = survey[field]
        found = feedback.post(f"/events/{event['id']}/surveys", payload).json()
    if found["status"] == "draft":
        feedback.post(f"/surveys/{found['id']}/open", {}, ok=(200,))
    return feedback.get(f"/surveys/{found['id']}"), created


def answer_value(question: dict, value: Any) -> Any:
    """course.json writes choices by their labels; the API takes option ids."""
    ids = {option["label"]: option["id"] for option in question["options"]}
    if question["kind"] == "multiple":
        return [ids[label] for label in value]
    if question["kind"] == "single":
        return ids[value]
    return value


def demo_browser_key(event: dict, index: int) -> str:
    # One fixed "browser" per demo response: a second run is refused as already answered (409).
    return f"demo-{event['slug']}-response-{index:04d}".ljust(32, "0")


def ensure_responses(
    feedback: Api, event: dict, survey: dict, course_survey: dict, responses: list[dict]
) -> int:
    """The survey is anonymous: its responses go through its link, each as its own browser."""
    by_key = {}
    for question, spec in zip(survey["questions"], course_survey["questions"], strict=False):
        if question["text"] == spec["text"]:
            by_key[spec["key"]] = question
    created = 0
    for index, answers in enumerate(responses):
        payload = {
            "browser_key": demo_browser_key(event, index),
            "answers": {
                str(by_key[key]["id"]): answer_value(by_key[key], value) for key, value in answers.items()
            },
        }
        response = feedback.post(
            f"/public-surveys/{survey['public_token']}/responses", payload, ok=(201, 409)
        )
        created += response.status_code == 201
    return created


def ensure_session_feedback(
    feedback: Api, registration: Api, event: dict, course: dict
) -> tuple[int, int, int]:
    """A short feedback form per session of the programme, and the demo's answers to a few of them.
    Returns (forms, new forms, new answers)."""
    sessions = registration.get(f"/events/{event['id']}/sessions")["items"]
    programme = [
        {"session_id": s["id"], "title": s["title"], "starts_at": f"{s['day']}T{s['starts_at']}"}
        for s in sessions
    ]
    made = feedback.post(f"/events/{event['id']}/session-surveys", {"sessions": programme}, ok=(200,)).json()
    forms = {
        item["session_id"]: item
        for item in feedback.get(f"/events/{event['id']}/surveys")["items"]
        if item["kind"] == "session"
    }
    session_ids = {s["title"].strip(): s["id"] for s in sessions}
    people = {
        p["email"].strip().lower(): p
        for p in registration.get(f"/events/{event['id']}/participants")["items"]
    }
    answered = 0
    for block in course.get("session_feedback", []):
        form = feedback.get(f"/surveys/{forms[session_ids[block['session'].strip()]]['id']}")
        rating, improve = (q["id"] for q in form["questions"][:2])
        for answer in block["answers"]:
            person = people[answer["participant"].lower()]
            path = f"/surveys/{form['id']}/responses/by-participant/{person['id']}"
            if feedback.call("GET", path, ok=(200, 404)).status_code == 200:
                continue
            answers = {str(rating): answer["rating"]}
            if answer.get("improve"):
                answers[str(improve)] = answer["improve"]
            feedback.call(
                "PUT",
                path,
                json={
                    "answers": answers,
                    "submit": True,
                    "respondent": {
                        "region_code": person.get("region_code"),
                        "organisation": person.get("organisation"),
                    },
                },
            )
            answered += 1
    return len(forms), len(made["created"]), answered


def load(course: dict) -> str:
    token = Settings.from_env("web").service_token
    registration = Api("registration", token)
    feedback = Api("feedback", token)
    warnings: list[str] = []

    event, event_created = ensure_event(registration, course["event"])
    sessions = course.get("sessions", [])
    sessions_created = ensure_sessions(registration, event, sessions)
    people = course.get("participants", [])
    people_created, people_skipped = ensure_participants(registration, event, people, warnings)
    summary = [
        f"event {event['slug']} (id {event['id']}, {'created' if event_created else 'already there'})",
        f"{len(sessions)} sessions ({sessions_created} new)",
        f"{len(people)} participants ({people_created} new, {people_skipped} already there)",
    ]
    if course.get("survey"):
        survey, survey_created = ensure_survey(feedback, event, course["survey"])
        demo_responses = course["survey"].get("demo_responses", [])
        responses_created = ensure_responses(feedback, event, survey, course["survey"], demo_responses)
        summary.append(
            f"survey #{survey['id']} ({'created' if survey_created else 'already there'}, "
            f"{len(demo_responses)} responses, {responses_created} new)"
        )
    if sessions:
        forms, forms_created, answers_created = ensure_session_feedback(feedback, registration, event, course)
        summary.append(f"{forms} session feedback forms ({forms_created} new, {answers_created} new answers)")
    for warning in warnings:
        print(f"demo data: warning: {warning}", file=sys.stderr)
    return "demo data: " + ", ".join(summary)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.load", description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=COURSE, help="the course to load (default: %(default)s)")
    args = parser.parse_args(argv)
    course = json.loads(args.file.read_text(encoding="utf-8"))
    try:
        print(load(course), flush=True)
    except LoadError as exc:
        print(f"demo data: not loaded: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
