#!/usr/bin/env bash
# Prepares a checkout for `make run` and `make test` on Debian 12: system packages, the Python venv,
# the browser libraries under web/static/vendor/ and the compiled translations.
# Idempotent, and quick when everything is already in place: each step only acts when its inputs changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Everything this script says is progress, not output: keep stdout clean for what runs after it
# (`make bench` prints JSON lines).
exec 1>&2

say() { printf 'setup: %s\n' "$*"; }
warn() { printf 'setup: WARNING: %s\n' "$*"; }

# --- System packages -------------------------------------------------------------------------------
# chromium: browser tests; libharfbuzz-subset0: font subsetting (WeasyPrint is about 5x slower without it);
# fonts-paratype, fonts-dejavu-core: Cyrillic fonts for the PDFs; pango: WeasyPrint's text layout;
# poppler-utils: pdftoppm/pdftotext, handy for looking at generated PDFs; nginx: `make run-prod` and its test
# (run as a child with a configuration under var/nginx/; the package's own service is not used).
SYSTEM_PACKAGES=(chromium libharfbuzz-subset0 fonts-paratype fonts-dejavu-core
                 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils nginx)
if ! command -v npm >/dev/null 2>&1; then
    SYSTEM_PACKAGES+=(nodejs npm)
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    SYSTEM_PACKAGES+=(python3-venv)
fi

missing=()
for package in "${SYSTEM_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$package")
    fi
done

if ((${#missing[@]})); then
    if [[ $EUID -eq 0 ]]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo)
    else
        as_root=(none)
    fi
    if [[ "${as_root[0]:-}" == none ]]; then
        warn "missing system packages: ${missing[*]}"
        warn "install them with:"
        warn "    sudo apt-get install -y --no-install-recommends ${missing[*]}"
        warn "continuing without them (browser tests will fail; PDFs still render, maybe with other fonts)"
    else
        say "installing system packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        "${as_root[@]}" apt-get update -qq
        "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
fi

# --- Python ----------------------------------------------------------------------------------------
VENV="$ROOT/.venv"
if [[ ! -x "$VENV/bin/python" ]]; then
    say "creating .venv"
    python3 -m venv "$VENV"
fi

# Reinstall only when the dependency pins change, or when one of the packages that pyproject.toml
# installs appears (an editable install only maps the packages that existed when it ran).
python_stamp="$({ cat pyproject.toml constraints.txt; ls -d -- eventops/__init__.py services/__init__.py web/__init__.py 2>/dev/null || true; } | sha256sum | cut -d' ' -f1)"
stamp_file="$VENV/.eventops-installed"
if [[ "$(cat "$stamp_file" 2>/dev/null || true)" != "$python_stamp" ]]; then
    say "installing Python packages (pip install -c constraints.txt -e '.[dev]')"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
    echo "$python_stamp" >"$stamp_file"
fi

# --- Browser libraries -----------------------------------------------------------------------------
VENDOR_DIR="$ROOT/web/static/vendor"
VENDOR_FILES=(
    "node_modules/htmx.org/dist/htmx.min.js:htmx.min.js"
    "node_modules/html5-qrcode/html5-qrcode.min.js:html5-qrcode.min.js"
)
if command -v npm >/dev/null 2>&1; then
    node_stamp="$(sha256sum package-lock.json | cut -d' ' -f1)"
    node_stamp_file="node_modules/.eventops-installed"
    if [[ "$(cat "$node_stamp_file" 2>/dev/null || true)" != "$node_stamp" ]]; then
        say "installing browser libraries (npm ci)"
        npm ci --no-audit --no-fund --loglevel=error
        echo "$node_stamp" >"$node_stamp_file"
    fi
    mkdir -p "$VENDOR_DIR"
    for pair in "${VENDOR_FILES[@]}"; do
        source_file="${pair%%:*}"
        target="$VENDOR_DIR/${pair##*:}"
        if ! cmp -s "$source_file" "$target"; then
            cp "$source_file" "$target"
            say "copied ${source_file} to web/static/vendor/"
        fi
    done
else
    warn "npm is not installed: web/static/vendor/ is not populated (pages will lack htmx and the QR scanner)"
fi

# --- Translations ----------------------------------------------------------------------------------
TRANSLATIONS="$ROOT/eventops/translations"
if [[ -d "$TRANSLATIONS" ]]; then
    stale=0
    while IFS= read -r -d '' po; do
        if [[ ! -f "${po%.po}.mo" || "$po" -nt "${po%.po}.mo" ]]; then
            stale=1
            break
        fi
    done < <(find "$TRANSLATIONS" -name '*.po' -print0)
    if ((stale)); then
        say "compiling translations"
        "$VENV/bin/pybabel" -q compile -d "$TRANSLATIONS" -f
    fi
fi

