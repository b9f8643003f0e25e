"""Talking to the gateway as a browser would: a cookie jar, CSRF tokens read from the page."""
from __future__ import annotations

import re

import requests

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def logged_in_session(web_url: str, username: str, password: str) -> requests.Session:
    browser = requests.Session()
    token = csrf_token(browser.get(f"{web_url}/login").text)
    response = browser.post(f"{web_url}/login", data={"username": username, "password": password,
                                                      "csrf_token": token}, allow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    return browser
