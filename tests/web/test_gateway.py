"""The gateway: login, roles, CSRF, language, error pages and the health page."""

import re

import pytest
import requests

from tests.web.support import csrf_token, logged_in_session


def login(web_url, username, password, session=None):
    session = session or requests.Session()
    token = csrf_token(session.get(f"{web_url}/login").text)
    return session, session.post(
        f"{web_url}/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    )


def test_login_page_is_russian_by_default_even_for_an_english_browser(live_system):
    page = requests.get(f"{live_system.web_url}/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert page.status_code == 200
    assert "Войти" in page.text and 'lang="ru"' in page.text


def test_staff_logs_in_and_out(live_system, staff_factory, db_backend):
    username, password = staff_factory("organiser")
    session, response = login(live_system.web_url, username, password)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    cookie = next(c for c in session.cookies if c.name == "session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    home = session.get(live_system.web_url + "/")
    assert home.status_code == 200 and "Мероприятия" in home.text

    logout = session.post(f"{live_system.web_url}/logout", data={"csrf_token": csrf_token(home.text)})
    assert "Вы вышли из системы" in logout.text
    assert session.get(live_system.web_url + "/", allow_redirects=False).status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_answer(live_system, staff_factory):
    username, _ = staff_factory("organiser")
    _, wrong_password = login(live_system.web_url, username, "not the password")
    _, unknown_user = login(live_system.web_url, "nobody-" + username, "not the password")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert "Неверный логин или пароль" in wrong_password.text
    assert "Неверный логин или пароль" in unknown_user.text


def test_repeated_failures_are_slowed_down(live_system, staff_factory):
    username, password = staff_factory("organiser")
    answers = [login(live_system.web_url, username, "wrong")[1] for _ in range(6)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429, statuses
    # The refusal says, in Russian, for which name and when to try again.
    refused = answers[5]
    assert "Слишком много неудачных попыток входа под этим логином" in refused.text
    wait = r"Попробуйте снова через \d+ (секунд|минут)\w* \(в \d\d:\d\d\)"
    assert re.search(wait, refused.text), refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Even the right password waits now: guessing cannot go on at full speed.
    assert login(live_system.web_url, username, password)[1].status_code == 429


def test_a_morning_shift_of_30_logs_in_from_one_address(live_system, staff_factory):
    """One NAT address, 30 staff within a minute, a few of them mistyping first: everyone gets in."""
    shift = [staff_factory("checkin") for _ in range(30)]
    for number, (username, password) in enumerate(shift):
        if number % 6 == 0:
            assert login(live_system.web_url, username, "mistyped")[1].status_code == 401
        assert login(live_system.web_url, username, password)[1].status_code == 303, username


def test_failures_for_one_name_do_not_lock_out_another(live_system, staff_factory):
    guessed, _ = staff_factory("organiser")
    colleague, password = staff_factory("organiser")
    for _attempt in range(6):
        login(live_system.web_url, guessed, "guess")
    assert login(live_system.web_url, guessed, "guess")[1].status_code == 429
    assert login(live_system.web_url, colleague, password)[1].status_code == 303
    # Its own mistake is its own: a failure, not a refusal on someone else's account.
    assert login(live_system.web_url, colleague, "mistyped")[1].status_code == 401


def test_many_names_failing_from_one_address_are_refused_after_a_while(live_system):
    statuses = [login(live_system.web_url, f"sprayed-{n}", "Summer2026")[1].status_code for n in range(31)]
    assert statuses[:30] == [401] * 30 and statuses[30] == 429, statuses
    refused = login(live_system.web_url, "sprayed-x", "Summer2026")[1]
    assert "Слишком много неудачных попыток входа из этой сети" in refused.text


def test_post_without_csrf_token_is_refused(live_system, staff_factory):
    username, password = staff_factory("organiser")
    session = logged_in_session(live_system.web_url, username, password)
    response = session.post(f"{live_system.web_url}/logout")
    assert response.status_code == 400
    assert "Форма устарела" in response.text
    assert session.get(live_system.web_url + "/").status_code == 200, "still logged in"


def test_pages_need_login(live_system):
    response = requests.get(f"{live_system.web_url}/status", allow_redirects=False)
    assert response.status_code == 302 and "/login?next=/status" in response.headers["Location"]


def test_login_does_not_redirect_off_site(live_system, staff_factory):
    username, password = staff_factory("organiser")
    session = requests.Session()
    token = csrf_token(session.get(f"{live_system.web_url}/login").text)
    response = session.post(
        f"{live_system.web_url}/login?next=//evil.example/x",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "/%09/evil.example",  # a tab: browsers drop it and read //evil.example
        "/%0d%0a/x",  # CR/LF in a Location header (a 500 before)
        "/%0a/evil.example",
        "/\\evil.example",
        "/%5Cevil.example",
        "/%2509/evil.example",  # encoded twice: harmless as sent, refused all the same
        "https://evil.example/",
        "javascript:alert(1)",
        "evil.example",
        "/%00",
        "/%7F",
    ],
)
def test_login_goes_home_for_any_next_that_is_not_a_plain_path(live_system, staff_factory, target):
    username, password = staff_factory("organiser")
    session = requests.Session()
    token = csrf_token(session.get(f"{live_system.web_url}/login").text)
    response = session.post(
        f"{live_system.web_url}/login?next={target}",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_login_returns_to_a_path_on_this_site(live_system, staff_factory):
    username, password = staff_factory("organiser")
    session = requests.Session()
    token = csrf_token(session.get(f"{live_system.web_url}/login").text)
    response = session.post(
        f"{live_system.web_url}/login?next=/events/1/participants%3Fq%3D%25D0%2581",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/events/1/participants?q=%D0%81"


def test_language_can_be_switched_to_english(live_system, staff_factory):
    username, password = staff_factory("organiser")
    session = logged_in_session(live_system.web_url, username, password)
    page = session.get(f"{live_system.web_url}/status")
    session.post(f"{live_system.web_url}/language", data={"lang": "en", "csrf_token": csrf_token(page.text)})
    assert "System status" in session.get(f"{live_system.web_url}/status").text


def test_status_page_shows_every_service_and_a_down_one(live_system, staff_factory, redis_connection):
    username, password = staff_factory("organiser")
    session = logged_in_session(live_system.web_url, username, password)
    page = session.get(f"{live_system.web_url}/status").text
    assert page.count('class="up"') == 4  # gateway + three services

    live_system.stop("feedback")
    page = session.get(f"{live_system.web_url}/status").text
    assert page.count('class="up"') == 3 and page.count('class="down"') == 1
    assert 'data-service="feedback"' in page


def test_a_service_that_is_down_gives_a_clear_russian_page_not_a_trace(live_system, staff_factory):
    username, password = staff_factory("organiser")
    session = logged_in_session(live_system.web_url, username, password)
    live_system.stop("registration")
    response = session.get(live_system.web_url + "/")
    assert response.status_code == 503
    assert "Сейчас не отвечает сервис регистрации" in response.text
    assert "Traceback" not in response.text


def test_event_page_opens_when_feedback_is_down(live_system, staff_factory):
    from tests.conftest import auth_headers

    event = requests.post(
        f"{live_system.urls['registration']}/api/v1/events",
        headers=auth_headers(),
        json={"slug": "e1", "title": "Курс", "starts_on": "2026-10-07", "ends_on": "2026-10-09"},
    ).json()
    username, password = staff_factory("organiser")
    session = logged_in_session(live_system.web_url, username, password)
    live_system.stop("feedback")
    response = session.get(f"{live_system.web_url}/events/{event['id']}")
    assert response.status_code == 200
    assert "Сервис опросов сейчас не отвечает" in response.text


@pytest.mark.parametrize("path", ["/verify/NOPE", "/verify/../../etc"])
def test_public_verification_of_an_unknown_code(live_system, path):
    response = requests.get(live_system.web_url + path)
    assert response.status_code == 404
    assert "Traceback" not in response.text


def test_check_in_staff_start_on_the_check_in_screen(live_system, staff_factory):
    username, password = staff_factory("checkin")
    _, response = login(live_system.web_url, username, password)
    assert response.status_code == 303 and response.headers["Location"] == "/checkin"


def test_the_gateway_reads_no_environment_variable_itself():
    """Every setting comes from eventops.config.Settings (and the README's table lists it)."""
    from pathlib import Path

    import web

    sources = {path: path.read_text(encoding="utf-8") for path in Path(web.__file__).parent.rglob("*.py")}
    assert len(sources) > 10
    readers = [str(path) for path, text in sources.items() if "os.environ" in text or "getenv" in text]
    assert readers == []


def _nginx_zones() -> dict[str, tuple[str, int, int]]:
    """deploy/nginx.conf's limit_req zones: name -> (key, requests a minute, burst)."""
    from pathlib import Path

    conf = (Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf").read_text()
    rates = {
        name: (key, int(rate))
        for key, name, rate in re.findall(r"limit_req_zone (\S+)\s+zone=(\w+):\S+\s+rate=(\d+)r/m;", conf)
    }
    bursts = dict(re.findall(r"limit_req zone=(\w+) burst=(\d+)", conf))
    return {name: (key, rate, int(bursts[name])) for name, (key, rate) in rates.items()}


def _per_minute(limits: str) -> int:
    from limits import parse_many

    return min(item.amount for item in parse_many(limits) if item.get_expiry() == 60)


def test_nginx_lets_through_at_least_what_the_gateway_allows_one_address():
    """nginx is the flood guard in front; the gateway's limits are the policy and must be the ones a venue
    behind one address meets (before, nginx allowed 10 logins and 30 personal pages a minute)."""
    from web import auth
    from web.views import survey_answers

    zones = _nginx_zones()
    key, rate, burst = zones["login"]
    assert key == "$login_post_address", "only POST /login is limited, not the login page itself"
    shift = 30  # staff logging in together from one address
    assert min(rate, burst) >= shift + _per_minute(auth.ADDRESS_FAILURES)
    assert zones["personal"][1] >= _per_minute(survey_answers.PER_ADDRESS)
    assert zones["verify"][1] >= 30 and zones["register"][1] >= 10
    assert zones["register"][0] == "$register_post_address"


def test_the_site_icon_is_served_and_linked(gateway):
    client = gateway.test_client()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert "max-age=86400" in icon.headers["Cache-Control"]
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.ico"' in page
    assert client.get("/static/favicon.svg").status_code == 200
