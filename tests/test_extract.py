"""Tests of crawler.extract on the bundled sample site and on hand-made pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.extract import EXTRACTOR_VERSION, ExtractOptions, extract, word_count

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "crawler" / "sample_site"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE = "http://127.0.0.1:8000"


def _page(path: str) -> bytes:
    return (SITE / path.lstrip("/")).read_bytes().replace(b"{{BASE}}", BASE.encode())


def _manifest() -> dict:
    return json.loads((SITE / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def hindi() -> tuple[dict, object]:
    expected = json.loads((FIXTURES / "hindi_seed_expected.json").read_text(encoding="utf-8"))
    return expected, extract(_page(expected["path"]), BASE + expected["path"])


def test_hindi_title_and_lang(hindi: tuple[dict, object]) -> None:
    expected, art = hindi
    assert art is not None
    assert art.title == expected["title"]
    assert art.lang == "hi"
    assert art.declared_lang == "hi"


def test_word_count_counts_unicode_words() -> None:
    assert word_count("ममता से मिले अखिलेश, don't stop") == 7
    assert word_count("") == 0
    assert EXTRACTOR_VERSION


def test_bad_input_gives_none() -> None:
    assert extract(b"") is None
    assert extract("<html><body></body></html>") is None
    assert extract(b"\x00\xff\xfe garbage <<<>>>") is None
    assert extract("<p>too short</p>", options=ExtractOptions()) is None
