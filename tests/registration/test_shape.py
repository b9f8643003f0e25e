"""The service's shape holds: domain modules know nothing of Flask or HTTP, only the API does."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import services.registration

PACKAGE = Path(services.registration.__file__).parent
#: what only the application factory, the API and the schemas (validated in a request) may import
WEB_ONLY = ("flask", "flask_babel", "spectree", "werkzeug", "eventops.problems", "services.registration.api")
DOMAIN = sorted(
    path
    for path in [*PACKAGE.glob("*.py"), *PACKAGE.glob("importing/*.py")]
    if path.name not in ("__init__.py", "app.py", "schemas.py")
)


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", DOMAIN, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_domain_modules_import_no_web_framework(path):
    assert len(DOMAIN) >= 15  # the glob found the modules
    web = {module for module in imported_modules(path) if module.startswith(WEB_ONLY)}
    assert not web, f"{path.name} imports {web}"


def test_only_the_api_spells_api_paths():
    spelled = [
        path.relative_to(PACKAGE)
        for path in PACKAGE.rglob("*.py")
        if "/api/v1" in path.read_text(encoding="utf-8") and path.parent.name != "api"
    ]
    assert spelled == []
