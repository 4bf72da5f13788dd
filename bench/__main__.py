"""``make bench``: run every benchmark and print one table."""

from __future__ import annotations

import importlib
import os
import sys
import traceback

SECTIONS = (
    "bench.engine",
    "bench.llm",
    "bench.cascade",
    "bench.billing",
    "bench.whatif",
    "bench.api",
)


def _print(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=False)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "railsite.settings")
    import django

    django.setup()
    rows: list[tuple[str, ...]] = [("measure", "figure", "goal")]
    failed = False
    for name in SECTIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        try:
            rows.extend(tuple(r) + ("",) * (3 - len(r)) for r in module.run())
        except Exception:
            traceback.print_exc()
            failed = True
    _print(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
