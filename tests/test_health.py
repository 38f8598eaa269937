"""``crawler health``: a local site that switches templates between two crawls (the extractor loses the
body) is flagged after the second crawl, not after the first; and the figures behind it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from archive.db import make_engine, make_sessionmaker
from archive.health import site_health
from archive.models import Article, FetchFailure
from archive.store import content_hash
from crawler import extract  # noqa: F401 - imported at collection, not under warnings-as-errors
from crawler.siteserver import serve_directory
from tests.conftest import FAST, run_cli
from tests.newsgen import invoke, write_site

N = 12


def _redesign(root: Path, paths: list[str]) -> None:
    """The new template: the story's text moves into a script the page renders in the browser."""
    for path in paths:
        (root / path.lstrip("/")).write_text(
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The Test Gazette</title></head>'
            '<body><header><a href="{{BASE}}/">The Test Gazette</a></header><div id="app"></div>'
            '<script>window.__STATE__ = {"story": "rendered in the browser"};</script></body></html>\n',
            encoding="utf-8",
        )


@pytest.mark.slow
def test_a_redesign_is_flagged_on_the_next_crawl(tmp_path: Path) -> None:
    root = tmp_path / "site"
    paths = write_site(root, N)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with serve_directory(root) as server:
        proc = run_cli("crawl", server.url + "/", "--db", db, *FAST)
        assert proc.returncode == 0, proc.stderr[-3000:]
        first = invoke("health", "--db", db, "--json")
        assert first.exit_code == 0, first.stdout
        assert "Extraction health" not in invoke("stats", "--db", db).stdout + proc.stdout
        (site,) = json.loads(first.stdout)["sites"]
        assert not site["flagged"] and site["recent"]["articles"] == N
        assert site["recent"]["with_title"] == 1.0 and site["recent"]["with_author"] == 0.0  # none named

        _redesign(root, paths)
        proc = run_cli("crawl", server.url + "/", "--full", "--db", db, *FAST)
        assert proc.returncode == 0, proc.stderr[-3000:]
    second = invoke("health", "--db", db, "--json")
    assert second.exit_code == 1
    (site,) = json.loads(second.stdout)["sites"]
    assert site["flagged"] and site["history"]["articles"] == N and site["recent"]["articles"] == 0
    assert site["recent"]["rejected"] + site["recent"]["empty"] == 1.0
    assert any(f.startswith(("rejected", "empty")) for f in site["flags"])
    assert site["examples"] and all(u.startswith(server.url + "/news/story-") for u in site["examples"])
    # The table says it too, with the figures and the pages.
    text = invoke("health", "--db", db)
    assert text.exit_code == 1 and "FLAGGED" in text.stdout and "e.g. " + server.url in text.stdout
    stats = invoke("stats", "--db", db)
    assert stats.exit_code == 0 and "Extraction health: 127.0.0.1 flagged" in stats.stdout
    assert "Extraction health: 127.0.0.1 flagged (" in proc.stdout  # the crawl's own summary
    # One site only, and a window by age: both crawls are within the last day, so no history.
    assert invoke("health", "--db", db, "--site", "127.0.0.1", "--since", "1d").exit_code == 0
    bad = invoke("health", "--db", db, "--since", "soon")
    assert bad.exit_code == 2 and "--since" in bad.stderr


def _article(i: int, words: int, fetched: datetime, domain: str = "a.test", **extra: object) -> Article:
    body = " ".join(["word"] * words) + f" {i}"
    return Article(
        url=f"https://{domain}/{i}",
        domain=domain,
        title=f"T{i}",
        lede=None,
        body=body,
        word_count=words,
        fetched_at=fetched,
        content_hash=content_hash(body),
        **extra,
    )


def test_figures_and_thresholds(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    old, new, cut = datetime(2026, 11, 1), datetime(2026, 11, 20), datetime(2026, 11, 15)
    with make_sessionmaker(engine).begin() as session:
        for i in range(10):
            session.add(_article(i, 400, old, published="2026-11-01", author="Ann"))
        for i in range(10, 20):  # after the redesign: half the length, no dates
            session.add(_article(i, 180, new, author="Ann"))
        session.add(FetchFailure(url="https://www.a.test/", failed_at=new, reason="not_article"))
        # Another site, in English until its pages come out in the language of a menu's other choice.
        for i in range(20, 30):
            lang = "en" if i < 25 or i == 29 else "fr"
            when = old if i < 25 else new
            session.add(_article(i, 300, when, domain="b.test", lang=lang, authors=None, credit=None))
    with make_sessionmaker(engine)() as session:
        a, b = site_health(session, cut)
        assert a.history.median_words == 400 and a.recent.median_words == 180
        assert a.history.with_date == 1.0 and a.recent.with_date == 0.0
        assert a.recent.rejected == round(1 / 11, 4) and a.recent.pages == 11
        assert a.flagged and {f.split()[0] for f in a.flags} == {"with_date", "median_words"}
        assert a.examples[0] == "https://www.a.test/"
        assert (
            b.recent.main_lang == "en"
            and b.history.main_lang_share == 1.0
            and b.recent.main_lang_share == 0.2
        )
        assert [f.split()[0] for f in b.flags] == ["main_lang_share"]
        assert b.history.with_author == 0.0  # None is stored as SQL NULL, not JSON null
        # A looser threshold lets the length pass; too few pages compare nothing.
        assert not any(h.flagged for h in site_health(session, cut, threshold=1.5))
        assert not any(h.flagged for h in site_health(session, cut, min_pages=12))
        assert [h.site for h in site_health(session, cut, site="b.test")] == ["b.test"]
    engine.dispose()
