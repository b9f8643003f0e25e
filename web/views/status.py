"""The health page: is every part of the system up?"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Blueprint, current_app, render_template

from web.auth import organisers

bp = Blueprint("status", __name__)


@bp.get("/status")
@organisers
def index():
    service_clients = current_app.extensions["service_clients"]
    # Asked in parallel: one service that hangs must not make the page wait for the others in turn.
    with ThreadPoolExecutor(max_workers=len(service_clients)) as pool:
        results = dict(
            zip(service_clients, pool.map(lambda c: c.health(), service_clients.values()), strict=True)
        )
    services = [{"name": name, "up": up, "details": details} for name, (up, details) in results.items()]
    return render_template("status.html", services=services)
