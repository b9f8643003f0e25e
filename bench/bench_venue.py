"""The check-in screen at a venue whose Wi-Fi drops, measured in Chromium through Playwright, against the
production-like system of bench_checkin (gunicorn, PostgreSQL, a real Redis) with 10,000 participants.

- venue.index_kb: the participant index on the wire, gzip-compressed, in KiB (and its raw size)
- venue.index_load_ms: in the page, from the request to the index stored in IndexedDB and ready to search
  (median of a few loads without an ETag, so each is a full download)
- venue.offline_search_p95_ms: offline, names typed letter by letter; per keystroke, from the key to the
  result list rendered (laid out), by performance.now() in the page
- venue.drain_500_s: 500 scans queued offline (on the page, then a reload offline from the service
  worker), sent once the network returns; with venue.drain_500_duplicates counted in the database

Environment: as bench_checkin (BENCH_POSTGRES_URL, BENCH_REDIS_URL, BENCH_WORKERS), and
BENCH_VENUE_PARTICIPANTS (10,000), BENCH_VENUE_QUEUED (500).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime

import requests
from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine, text

from bench import bench_checkin
from bench.bench_checkin import DAYS, System, duplicates_in_database, open_tablets, percentile, seed
from tests.browser.conftest import CHROMIUM_ARGS, TABLET

PARTICIPANTS = int(os.environ.get("BENCH_VENUE_PARTICIPANTS", 10_000))
QUEUED = int(os.environ.get("BENCH_VENUE_QUEUED", 500))
INDEX_LOADS = 5
SEARCHES = 40

# Per keystroke: the moment its letter is about to enter the field, then the moment the result list
# has been laid out after it.
KEYSTROKE_CLOCK = """
(() => {
  window.__samples = [];
  const input = document.getElementById("checkin-q");
  const results = document.getElementById("results");
  let pressed = null;
  // beforeinput, not keydown: Playwright types Cyrillic as inserted text, with no key events
  input.addEventListener("beforeinput", () => { pressed = performance.now(); }, true);
  new MutationObserver(() => {
    if (pressed === null) return;
    void results.offsetHeight; // layout, as the tablet must do before anyone sees the list
    window.__samples.push(performance.now() - pressed);
    pressed = null;
  }).observe(results, { childList: true, subtree: true });
})()
"""

LOAD_INDEX = """
async ([eventId, url]) => {
  const kept = new EventOpsCheckinIndex.KeptIndex(eventId, url);
  const started = performance.now();
  const result = await kept.refresh();
  return { ms: performance.now() - started, result, size: kept.current ? kept.current.size : 0 };
}
"""


def index_on_the_wire(web: str, event_id: int, tablet: requests.Session) -> tuple[int, int]:
    answer = tablet.get(
        f"{web}/events/{event_id}/checkin/index.json", headers={"Accept-Encoding": "gzip"}, stream=True
    )
    answer.raise_for_status()
    packed = answer.raw.read()
    return len(packed), len(gzip.decompress(packed))


def queued_scans(people, day: str) -> list[dict]:
    """What the screen keeps in localStorage for scans made offline (checkin.js's queue entries)."""
    now = datetime.now(UTC).isoformat()
    return [
        {
            "url": None,  # filled in the page: the screen's scan URL
            "label": person.full_name,
            "body": {
                "code": person.code,
                "day": day,
                "session_id": None,
                "nonce": str(uuid.uuid4()),
                "scanned_at": now,
                "offline": 1,
            },
        }
        for person in people
    ]


def checked_in_count(database_url: str, event_id: int, day: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM checkins WHERE event_id = :e AND day = :d AND outcome = 'checked_in'"),
            {"e": event_id, "d": day},
        ).scalar()
    engine.dispose()
    return count


def run() -> list[dict]:
    bench_checkin.PARTICIPANTS = PARTICIPANTS
    bench_checkin.TABLETS = 1
    context = {"participants": PARTICIPANTS, "browser": "chromium", "database": "postgresql"}
    with System() as system:
        event_id, people = seed(system)
        tablet = open_tablets(system, event_id)[0]
        web = system.urls["web"]
        packed, raw = index_on_the_wire(web, event_id, tablet)
        screen = f"{web}/events/{event_id}/checkin?day={DAYS[0]}"
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            browser = chromium.new_context(viewport=TABLET, has_touch=True, locale="ru-RU")
            session = [cookie.value for cookie in tablet.cookies if cookie.name == "session"][-1]
            browser.add_cookies([{"name": "session", "value": session, "url": web}])
            page = browser.new_page()
            page.goto(screen)
            page.wait_for_selector(f'#checkin[data-index-size="{PARTICIPANTS}"]', timeout=120_000)
            page.wait_for_selector('#checkin[data-offline-ready="1"]', timeout=60_000)

            loads = [
                page.evaluate(LOAD_INDEX, [event_id, f"/events/{event_id}/checkin/index.json"])
                for _ in range(INDEX_LOADS)
            ]
            assert all(load["size"] == PARTICIPANTS for load in loads), loads

            browser.set_offline(True)
            page.wait_for_selector("#connection", state="visible")
            page.evaluate(KEYSTROKE_CLOCK)
            rnd = random.Random(7)
            for person in rnd.sample(people, SEARCHES):
                page.keyboard.type(person.query.lower(), delay=40)
                page.wait_for_timeout(50)
                page.locator("#checkin-q").fill("")
            samples = page.evaluate("window.__samples")

            queue = queued_scans(people[:QUEUED], DAYS[0])
            page.evaluate(
                """([key, queue]) => {
                  const url = document.getElementById("checkin").dataset.scanUrl;
                  localStorage.setItem(key, JSON.stringify(queue.map((e) => ({ ...e, url }))));
                }""",
                ["eventops-checkin-queue", queue],
            )
            page.reload()  # offline: the service worker's copy, with the queue waiting
            page.wait_for_selector("#pending", state="visible")
            started = time.perf_counter()
            browser.set_offline(False)
            page.wait_for_selector("#pending", state="hidden", timeout=600_000)
            drain_s = time.perf_counter() - started
            replayed = page.evaluate(
                "JSON.parse(localStorage.getItem('eventops-checkin-queue-replayed')).length"
            )
            chromium.close()
        duplicates = duplicates_in_database(system.database_url, event_id)
        recorded = checked_in_count(system.database_url, event_id, DAYS[0])

    machine = {"load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
    return [
        {
            "bench": "venue.index_kb",
            "value": round(packed / 1024, 1),
            "unit": "KiB",
            "raw_kb": round(raw / 1024, 1),
            **context,
        },
        {
            "bench": "venue.index_load_ms",
            "value": round(statistics.median(one["ms"] for one in loads), 1),
            "unit": "ms",
            "loads": [round(x["ms"], 1) for x in loads],
            **context,
            **machine,
        },
        {
            "bench": "venue.offline_search_p95_ms",
            "value": round(percentile(samples, 0.95), 2),
            "unit": "ms",
            "p50_ms": round(percentile(samples, 0.50), 2),
            "max_ms": round(max(samples), 2),
            "keystrokes": len(samples),
            **context,
            **machine,
        },
        {
            "bench": "venue.drain_500_s",
            "value": round(drain_s, 2),
            "unit": "s",
            "queued": QUEUED,
            "checked_in": recorded,
            "replayed_listed": replayed,
            **context,
            **machine,
        },
        {"bench": "venue.drain_500_duplicates", "value": duplicates, "unit": "count", **context},
    ]


if __name__ == "__main__":
    for result in run():
        print(json.dumps(result, ensure_ascii=False))
