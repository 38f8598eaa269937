"""extract()'s output on every page of both shared corpora is the one stored for this EXTRACTOR_VERSION.

A refactor of crawler.extract must leave the digest alone; a change of output must come with a bump of
EXTRACTOR_VERSION (rows re-extract by it) and a regenerated digest.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType

import pytest

from crawler.extract import EXTRACTOR_VERSION
from tests.conftest import REPO, SHARED, shared_path

REGENERATE = (
    "if the change of output is intended, bump EXTRACTOR_VERSION and regenerate with "
    "`python bench/extract_digest.py --write`"
)


def _bench() -> ModuleType:
    """bench/extract_digest.py, loaded as a module (bench/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "bench_extract_digest", REPO / "bench" / "extract_digest.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_extract_output_matches_the_stored_digest() -> None:
    bench = _bench()
    for name in bench.CORPORA:
        shared_path(name, "truth.jsonl")
    stored = json.loads(bench.DIGEST_FILE.read_text(encoding="utf-8"))
    assert stored["extractor_version"] == EXTRACTOR_VERSION, (
        f"the stored digest is of extractor {stored['extractor_version']}, the code is {EXTRACTOR_VERSION}: "
        + REGENERATE
    )
    digest, pages = bench.compute(SHARED)
    assert pages == stored["pages"], f"{pages} pages in the corpora, the digest is of {stored['pages']}"
    assert digest == stored["digest"], (
        f"extract() output on the {pages} corpus pages changed under EXTRACTOR_VERSION {EXTRACTOR_VERSION}: "
        + REGENERATE
    )
