"""A digest of extract()'s output on every page of the shared corpora, to show a refactor changed nothing.

Usage: python bench/extract_digest.py [--write] [--shared DIR]

Runs :func:`crawler.extract.extract` over every page of ``corpus-dev`` and ``corpus-dev-older`` (under
``../shared`` by default) and prints one SHA-256 over, per page in id order, the JSON of the id and the
fields of the Article (or null where extract returns None). ``--write`` stores it with the
EXTRACTOR_VERSION in ``tests/fixtures/extract_digest.json``, which ``tests/test_extract_digest.py``
compares against. Regenerate it only together with a bump of EXTRACTOR_VERSION: a different digest
under the same version means the output changed unintentionally.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from crawler.extract import EXTRACTOR_VERSION, extract

__all__ = ["CORPORA", "DIGEST_FILE", "FIELDS", "compute", "main"]

CORPORA = ("corpus-dev", "corpus-dev-older")
DIGEST_FILE = ROOT / "tests" / "fixtures" / "extract_digest.json"
FIELDS = (
    "title",
    "lede",
    "body",
    "lang",
    "lang_confidence",
    "author",
    "published",
    "canonical_url",
    "site_name",
    "declared_lang",
    "lang_source",
    "modified",
    "published_source",
    "authors",
    "credit",
    "access",
    "truncated",
)
# Every page is extracted as if fetched now (this moment, fixed): dates are checked against it.
FETCHED_AT = datetime(2026, 12, 1, 12, 0, 0)


def _pages(shared: Path) -> Iterator[tuple[str, bytes, str | None, str | None]]:
    """(id, raw bytes, url, content type) of every page of both corpora, in id order."""
    records: list[tuple[Path, dict[str, Any]]] = []
    for name in CORPORA:
        corpus = shared / name
        with (corpus / "truth.jsonl").open(encoding="utf-8") as fh:
            records += [(corpus, json.loads(line)) for line in fh if line.strip()]
    for corpus, rec in sorted(records, key=lambda r: r[1]["id"]):
        html = gzip.decompress((corpus / "pages" / f"{rec['id']}.html.gz").read_bytes())
        charset = rec.get("charset")
        yield rec["id"], html, rec.get("url"), f"text/html; charset={charset}" if charset else None


def compute(shared: Path) -> tuple[str, int]:
    """(hex SHA-256 of the output on every page, number of pages)."""
    sha = hashlib.sha256()
    pages = 0
    for page_id, html, url, content_type in _pages(shared):
        art = extract(html, url=url, content_type=content_type, fetched_at=FETCHED_AT)
        fields: dict[str, Any] | None = None if art is None else {f: getattr(art, f) for f in FIELDS}
        sha.update(json.dumps([page_id, fields], ensure_ascii=False).encode("utf-8") + b"\n")
        pages += 1
    return sha.hexdigest(), pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"store the digest in {DIGEST_FILE}")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="where the corpora are")
    args = parser.parse_args(argv)
    missing = [name for name in CORPORA if not (args.shared / name / "truth.jsonl").is_file()]
    if missing:
        print(f"error: no {', '.join(missing)} under {args.shared}", file=sys.stderr)
        return 2
    digest, pages = compute(args.shared)
    print(f"extractor {EXTRACTOR_VERSION}: {pages} pages, digest {digest}")
    if args.write:
        data = {"extractor_version": EXTRACTOR_VERSION, "digest": digest, "pages": pages}
        DIGEST_FILE.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"written to {DIGEST_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
