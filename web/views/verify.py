"""Public verification of a certificate by its code or the QR printed on it."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from web.clients import ServiceError, client
from web.limits import limiter

bp = Blueprint("verify", __name__)


@bp.get("/verify")
@limiter.limit("30 per minute")
def form():
    code = (request.args.get("code") or "").strip()
    if code:
        return redirect(url_for("verify.show", code=code), 303)
    return render_template("verify.html", result=None, code="")


@bp.get("/verify/<code>")
@limiter.limit("30 per minute")
def show(code: str):
    code = code.strip().upper()[:40]
    try:
        result = client("certificates").get(f"/api/v1/verify/{code}")
    except ServiceError as exc:
        if exc.status != 404:
            raise
        return render_template("verify.html", result=None, code=code, not_found=True), 404
    return render_template("verify.html", result=result, code=code)
