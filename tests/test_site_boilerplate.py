"""Per-site boilerplate learning: counts kept in the archive, fed back to the extractor, shown by the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from archive.boilerplate import learned_lines, record_lines, site_report
from archive.db import make_engine, make_sessionmaker
from crawler.cli import main
from crawler.extract import ExtractOptions, extract, lines_for_learning

BLURB = "Get the Valley Courier briefing in your inbox every morning"
COPYRIGHT_LIKE = "All stories are checked by our night desk before they go out"


def _page(n: int) -> str:
    paras = "".join(
        f"<p>Story {n}, paragraph {i}: the council discussed item {i} of the plan for district {n} today.</p>"
        for i in range(6)
    )
    return (
        '<html lang="en"><head><meta property="og:type" content="article">'
        f"<title>Story {n} about the district</title></head><body><article>"
        f"<h1>Story {n} about the district</h1>{paras}<p>{BLURB}</p><p>{COPYRIGHT_LIKE}</p>"
        "</article></body></html>"
    )


_ENGINES: dict[str, Engine] = {}


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    while _ENGINES:
        _ENGINES.popitem()[1].dispose()


def _session(db: str) -> Session:
    if db not in _ENGINES:
        _ENGINES[db] = make_engine(db)
    return make_sessionmaker(_ENGINES[db])()


def _crawl(db: str, domain: str, pages: range) -> None:
    """Extract and count pages the way the pipeline does: learned lines in, lines counted out."""
    for n in pages:
        with _session(db) as session:
            learned = learned_lines(session, domain)
        art = extract(
            _page(n), f"https://{domain}/story-{n}.html", options=ExtractOptions(site_boilerplate=learned)
        )
        assert art is not None
        with _session(db) as session, session.begin():
            record_lines(session, domain, lines_for_learning(art))


def test_lines_on_many_pages_are_learned_and_persist(archive_url: str) -> None:
    db = archive_url
    _crawl(db, "courier.example", range(2))
    with _session(db) as session:
        assert learned_lines(session, "courier.example") == frozenset()  # two pages: not yet
    _crawl(db, "courier.example", range(2, 5))
    # A fresh engine and session on the same file: the counts were stored.
    with _session(db) as session:
        learned = learned_lines(session, "courier.example")
        pages, report = site_report(session, "courier.example")
        assert learned_lines(session, "other.example") == frozenset()
    assert pages == 5
    assert {x.lower() for x in (BLURB, COPYRIGHT_LIKE)} <= learned
    assert not any("paragraph" in line for line in learned)
    top = report[0]
    assert top.pages == 5 and top.boilerplate


def test_learned_lines_are_dropped_from_later_pages(archive_url: str) -> None:
    db = archive_url
    _crawl(db, "courier.example", range(5))
    with _session(db) as session:
        learned = learned_lines(session, "courier.example")
    plain = extract(_page(9), "https://courier.example/story-9.html")
    cleaned = extract(
        _page(9), "https://courier.example/story-9.html", options=ExtractOptions(site_boilerplate=learned)
    )
    assert plain is not None and cleaned is not None
    assert BLURB in plain.text and BLURB not in cleaned.text
    assert COPYRIGHT_LIKE not in cleaned.text
    assert cleaned.text.count("paragraph") == plain.text.count("paragraph") == 6


def test_a_line_on_a_small_share_of_a_big_site_is_not_learned(archive_url: str) -> None:
    db = archive_url
    with _session(db) as session, session.begin():
        for n in range(40):
            lines = [f"unique line {n}"] + (["a quote that three stories share"] if n < 3 else [])
            record_lines(session, "big.example", lines)
    with _session(db) as session:
        assert "a quote that three stories share" not in learned_lines(session, "big.example")


def test_cli_shows_learned_lines(archive_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = archive_url
    _crawl(db, "courier.example", range(4))
    assert main(["boilerplate", "https://www.courier.example/any", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "courier.example: 4 pages counted, 2 lines learned" in out
    assert BLURB.lower() in out
    assert "paragraph" not in out


def test_cli_unknown_site_is_one_clear_error(archive_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = archive_url
    _crawl(db, "courier.example", range(1))
    assert main(["boilerplate", "nowhere.example", "--db", db]) != 0
    err = capsys.readouterr().err
    assert "no pages of nowhere.example" in err
    assert "Traceback" not in err


def test_removed_lines_keep_being_counted(archive_url: str) -> None:
    db = archive_url
    _crawl(db, "courier.example", range(30))
    with _session(db) as session:
        pages, report = site_report(session, "courier.example")
        learned = learned_lines(session, "courier.example")
    counts = {x.line: x.pages for x in report}
    # Dropped from pages 4..30 once learned, but still counted on every page, so still learned.
    assert pages == 30 and counts[BLURB.lower()] == 30
    assert BLURB.lower() in learned


def test_upserts_count_lines_and_pages(archive_url: str) -> None:
    """Lines are counted with two upsert statements (SQLite's json_each, PostgreSQL's
    jsonb_array_elements_text): pages per line, first and last seen, and the site's page count."""
    from sqlalchemy import select

    import archive.boilerplate as learning
    from archive.models import SiteLine

    with _session(archive_url) as session, session.begin():
        for n in range(5):
            lines = [f"line of page {n}", "shared by all", "shared by all"] + ["odd one"] * (n % 2)
            lines.append("x" * (learning.MAX_LINE_CHARS + 1))  # too long: a paragraph, not counted
            record_lines(session, "s.example", lines, now=datetime(2026, 11, 1 + n, 12))
    with _session(archive_url) as session:
        rows = session.scalars(select(SiteLine).where(SiteLine.domain == "s.example"))
        lines = {r.line: (r.pages, r.first_seen.isoformat(), r.last_seen.isoformat()) for r in rows}
        pages = learning.site_pages(session, "s.example")
    assert pages == 5 and lines["shared by all"] == (5, "2026-11-01T12:00:00", "2026-11-05T12:00:00")
    assert lines["odd one"] == (2, "2026-11-02T12:00:00", "2026-11-04T12:00:00")
    assert lines["line of page 3"] == (1, "2026-11-04T12:00:00", "2026-11-04T12:00:00") and len(lines) == 7
