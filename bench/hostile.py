"""One crawl of a hostile site (tests/faultsite.py): what is archived, what is recorded, peak memory.

Serves the fault site on 127.0.0.1 (and a second server on 127.0.0.2 that nothing may reach),
crawls it with the project's default settings into a fresh SQLite file in a subprocess, samples
the resident memory of the crawl and its extraction workers every 0.1 s, and prints one row of
bench/RESULTS.md's hostile-web table: inputs, faults, crashes, lost articles, duplicates, peak RSS.

    python bench/hostile.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.faultsite import crawl_fault_site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout to crawl with (a baseline)")
    parser.add_argument(
        "--python", default=sys.executable, help="its interpreter (e.g. its .venv/bin/python)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        result = crawl_fault_site(Path(tmp), repo=args.repo.resolve(), python=args.python)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(
            "| inputs tried | faults injected | crashes | lost articles | duplicates | peak RSS (crawl + workers) | time |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print(
            f"| {result['inputs']} | {result['faults']} | {result['crashes']} | {len(result['lost'])} | "
            f"{result['duplicates']} | {result['peak_rss_mib']} MiB | {result['seconds']} s |"
        )
        if result["unrecorded_or_wrong"] or result["extra"] or result["lost"]:
            print("not as expected:", result["unrecorded_or_wrong"], result["extra"], result["lost"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
