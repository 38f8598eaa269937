"""``crawler health``: a local site that switches templates between two crawls (the extractor loses the
body) is flagged after the second crawl, not after the first; and the figures behind it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.db import make_engine, make_sessionmaker
from archive.health import site_health
from archive.models import Article, FetchFailure
from archive.store import content_hash
from crawler import extract  # noqa: F401 - imported at collection, not under warnings-as-errors
from crawler.siteserver import serve_directory
from tests.conftest import FAST, run_cli
from tests.newsgen import invoke, story_html, write_site

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


# The site's chrome inside the article, before and after a redesign: lines every story carries.
OLD_CHROME = (
    "The Test Gazette is printed every morning in the old mill on Station Road.",
    "Letters to the editor are read out on Fridays at the Gazette's front desk.",
)
NEW_CHROME = (
    "The Gazette has moved to a new home on the harbour front this winter.",
    "Readers will find the new Gazette offices right beside the ferry terminal.",
)


def _chrome_site(root: Path, n: int, chrome: tuple[str, ...]) -> list[str]:
    """A site of ``n`` stories whose template puts ``chrome`` lines at the end of every article."""
    paths = write_site(root, n)
    lines = "".join(f"<p>{line}</p>" for line in chrome)
    for i, path in enumerate(paths):
        html = story_html(i).replace("</article>", lines + "</article>")
        (root / path.lstrip("/")).write_text(html, encoding="utf-8")
    return paths


@pytest.mark.slow
def test_learned_lines_that_stop_matching_are_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crawl 1 learns the site's chrome lines; crawl 2 removes them from its new stories; crawl 3 meets a
    new template whose chrome the learned lines no longer match: flagged on the boilerplate hits then,
    and not before."""
    root = tmp_path / "site"
    db_path = tmp_path / "archive.db"
    db = f"sqlite:///{db_path}"

    def health() -> dict:
        result = invoke("health", "--db", db, "--json")
        (site,) = json.loads(result.stdout)["sites"]
        assert result.exit_code == (1 if site["flagged"] else 0), result.stdout
        return site

    def hits() -> dict[int, int | None]:
        engine = make_engine(db, readonly=True)
        with make_sessionmaker(engine)() as session:
            rows = session.execute(select(Article.url, Article.boilerplate_hits)).all()
        engine.dispose()
        return {int(url.rsplit("-", 1)[1].split(".")[0]): n for url, n in rows}

    _chrome_site(root, 8, OLD_CHROME)
    with serve_directory(root) as server:
        for crawl, (stories, chrome) in enumerate(((8, OLD_CHROME), (16, OLD_CHROME), (24, NEW_CHROME)), 1):
            _chrome_site(root, stories, chrome)
            proc = run_cli("crawl", server.url + "/", "--db", db, *FAST)  # incremental: new stories only
            assert proc.returncode == 0, proc.stderr[-3000:]
            site = health()
            if crawl == 1:  # nothing learned yet when its pages were extracted: no hits counted
                assert hits() == dict.fromkeys(range(8))
                assert not site["flagged"] and site["recent"]["boilerplate_pages"] == 0
            elif crawl == 2:  # the chrome learned in crawl 1 is removed from the new stories
                assert hits() == dict.fromkeys(range(8)) | dict.fromkeys(range(8, 16), 2)
                assert site["recent"]["boilerplate_hits"] == 2.0 and site["recent"]["boilerplate_pages"] == 8
                assert site["history"]["boilerplate_pages"] == 0  # nothing to compare with yet
                assert not site["flagged"] and "Extraction health" not in proc.stdout
    # Crawl 3: the redesigned chrome is not what was learned; the old lines match nothing.
    assert hits() == dict.fromkeys(range(8)) | dict.fromkeys(range(8, 16), 2) | dict.fromkeys(
        range(16, 24), 0
    )
    assert site["flagged"] and site["flags"] == ["boilerplate_hits 2.00 -> 0.00"]
    assert site["history"]["boilerplate_hits"] == 2.0 and site["recent"]["boilerplate_hits"] == 0.0
    assert site["recent"]["articles"] == 8 and site["recent"]["with_title"] == 1.0  # the text is fine
    assert site["examples"] and all(
        int(u.rsplit("-", 1)[1].split(".")[0]) >= 16 for u in site["examples"]
    )  # the redesigned pages
    assert "Extraction health: 127.0.0.1 flagged (boilerplate_hits 2.00 -> 0.00)" in proc.stdout
    monkeypatch.setenv("COLUMNS", "200")  # the table on one line a site
    text = invoke("health", "--db", db)
    assert text.exit_code == 1 and "FLAGGED 127.0.0.1: boilerplate_hits 2.00 -> 0.00" in text.stdout
    assert "(threshold 0.3; boilerplate_hits 0.5)" in text.stdout
    header = next(line for line in text.stdout.splitlines() if "median words" in line)
    row = next(line for line in text.stdout.splitlines() if line.startswith("│ 127.0.0.1"))
    assert header.split("┃")[-2].strip() == "boilerplate hits" and row.split("│")[-2].strip() == "2.00 / 0.00"
    # --threshold is every figure's: a fall from 2 to none is a move of 1.0 (all of it).
    assert invoke("health", "--db", db, "--threshold", "1").exit_code == 0
    assert invoke("health", "--db", db, "--threshold", "0.99").exit_code == 1
    assert json.loads(invoke("health", "--db", db, "--json").stdout)["thresholds"]["boilerplate_hits"] == 0.5


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


def test_boilerplate_hits_compare_counted_pages_either_way(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    old, new, cut = datetime(2026, 11, 1), datetime(2026, 11, 20), datetime(2026, 11, 15)
    with make_sessionmaker(engine).begin() as session:
        # c.test: no learned line matched before; now three a page match (a template that shows more).
        for i in range(6):
            session.add(_article(i, 300, old, domain="c.test", boilerplate_hits=0))
            session.add(_article(10 + i, 300, new, domain="c.test", boilerplate_hits=3 + i % 2))
        # d.test: its history was extracted before anything was learned (NULL): nothing to compare with.
        for i in range(20, 26):
            session.add(_article(i, 300, old, domain="d.test"))
            session.add(_article(10 + i, 300, new, domain="d.test", boilerplate_hits=2))
        # e.test: 4 -> 3 lines a page, and one of its pages uncounted: a move of 0.25 of the larger.
        for i in range(40, 46):
            session.add(_article(i, 300, old, domain="e.test", boilerplate_hits=4))
            session.add(_article(10 + i, 300, new, domain="e.test", boilerplate_hits=3 if i < 45 else None))
    with make_sessionmaker(engine)() as session:
        c, d, e = site_health(session, cut)
        assert c.flags == ["boilerplate_hits 0.00 -> 3.50"] and c.recent.boilerplate_pages == 6
        assert c.examples == ["https://c.test/11", "https://c.test/13", "https://c.test/15"]  # the most hits
        assert not d.flagged and d.history.boilerplate_pages == 0 and d.recent.boilerplate_hits == 2.0
        assert not e.flagged and e.recent.boilerplate_pages == 5 and e.recent.boilerplate_hits == 3.0
        # Its own setting: tighter, and e.test is flagged; the other figures keep theirs.
        (e,) = site_health(
            session, cut, site="e.test", thresholds={"CRAWLER_HEALTH_BOILERPLATE_THRESHOLD": 0.2}
        )
        assert e.flags == ["boilerplate_hits 4.00 -> 3.00"]
        # Six pages a window, but five of them counted recently: too few to compare at min_pages 6.
        tight = {"CRAWLER_HEALTH_BOILERPLATE_THRESHOLD": 0.2}
        (e,) = site_health(session, cut, site="e.test", thresholds=tight, min_pages=6)
        assert e.recent.pages == 6 and e.flags == []
    engine.dispose()
