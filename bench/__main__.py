"""Runs every bench/bench_*.py module and prints one JSON object per line:
{"bench": ..., "value": ..., "unit": ...}. Arguments narrow the run to modules whose name contains one.

    python -m bench [NAME ...]
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import traceback
from pathlib import Path

REQUIRED = ("bench", "value", "unit")


def discover(selected: list[str]) -> list[str]:
    folder = Path(__file__).resolve().parent
    names = sorted(
        info.name for info in pkgutil.iter_modules([str(folder)]) if info.name.startswith("bench_")
    )
    if selected:
        names = [name for name in names if any(word in name for word in selected)]
    return names


def main(argv: list[str] | None = None) -> int:
    failed = []
    for name in discover(list(sys.argv[1:] if argv is None else argv)):
        try:
            results = importlib.import_module(f"{__package__ or 'bench'}.{name}").run()
            for result in results:
                missing = [key for key in REQUIRED if key not in result]
                if missing:
                    raise ValueError(f"result {result!r} lacks {', '.join(missing)}")
                print(json.dumps(result, ensure_ascii=False), flush=True)
        except Exception:  # one broken benchmark must not hide the others' results
            failed.append(name)
            print(f"bench: {name} failed:\n{traceback.format_exc()}", file=sys.stderr)
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
