"""Security headers on every response of the gateway (pages, fragments, files, error pages).

The Content-Security-Policy is one the pages keep: scripts only from this site (static/js and the pinned
vendor libraries), no inline script or handler (`onclick=`, `hx-on`, `<script>` blocks) and no eval, so
htmx runs with `allowEval` off (base.html) and trigger filters are not used. Styles may be inline: templates
carry small `style=` attributes and `<style>` blocks, and the QR scanner styles what it draws; page output
is escaped, so that is a much smaller door than script. QR codes are inline SVG, the scanner's icons data:
images. Framing is refused (clickjacking) both by CSP and by X-Frame-Options for older browsers.
The camera is allowed only where a view says so (the check-in screen's scanner).
"""

from __future__ import annotations

from flask import Flask

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
#: a view that needs the camera sets its own Permissions-Policy (CAMERA_ALLOWED)
NO_DEVICES = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
CAMERA_ALLOWED = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Nothing of a URL leaves the site; the pages under a personal token (/p/, /s/) send no Referer at all,
    # not even to this site's own assets (their blueprints set no-referrer).
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": NO_DEVICES,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
