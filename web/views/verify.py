"""Public verification of a certificate by its code or the QR printed on it: anyone may check a paper,
and learns what is printed on it and whether it still holds, nothing more personal."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from web.clients import certificates as certificates_api
from web.limits import limiter

bp = Blueprint("verify", __name__)

#: longer than any verification code with its dashes; the rest of a mistyped paste is cut off
MAX_CODE_LENGTH = 40


def _clean(code: str) -> str:
    # Codes are printed in capitals; a person may type them in any case, with spaces around.
    return code.strip().upper()[:MAX_CODE_LENGTH]


@bp.get("/verify")
@limiter.limit("30 per minute")
def form():
    code = _clean(request.args.get("code") or "")
    if code:
        return redirect(url_for("verify.show", code=code), 303)
    return render_template("verify.html", result=None, code="")


@bp.get("/verify/<code>")
@limiter.limit("30 per minute")
def show(code: str):
    code = _clean(code)
    result = certificates_api.verify(code) if code else None
    if result is None:
        return render_template("verify.html", result=None, code=code, not_found=True), 404
    return render_template("verify.html", result=result, code=code)
