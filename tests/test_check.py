"""``crawler check``: seed texts and URL lists against a real SQLite archive (rows inserted here),
and end to end against a real crawl of the sample site."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from archive.db import make_engine, make_sessionmaker
from archive.models import Article, FetchFailure
from archive.search import FTS_TABLE
from crawler.check import TextSeed, UrlSeed, classify_absent, line_key, read_seed
from crawler.cli import main
from crawler.cli.check import _fts_candidates, check_text_seeds
from tests.conftest import FAST, run_cli, shared_path

TITLE = "Harbour bridge reopens after two years of repairs"
LEDE = "The city's harbour bridge reopened to traffic on Monday after a two-year repair programme costing 48 million."
P1 = (
    "Engineers replaced the cables and the deck joints, and the bridge now carries a fourth lane "
    "reserved for buses during the morning rush."
)
SUB = "Traffic returns"
P2 = "The mayor said the reopening would cut journey times across the river by up to twenty minutes at peak hours."
P3 = (
    "Shopkeepers on both banks said trade had fallen sharply during the closure and that they hoped "
    "customers would now come back."
)
P4 = "The old ferry service will keep running on weekends until the end of the summer, the port authority said."

# The page as a reader saw it: navigation, share buttons, related links and a video list included.
SEED_TEXT = f"""{TITLE}
Home | News | City | Sport

{LEDE}

{P1}

Share this article
{SUB}
{P2}

Also read: Ferry timetable changes from next week

{P3}

{P4}

Latest Videos

Drone footage of the bridge at night
Storm damage in the old town | City News |
"""


def _paras(*parts: str) -> str:
    """Paragraphs as the archive stores them: blank-line separated."""
    return "\n\n".join(parts)


CLEAN_BODY = _paras(P1, SUB, P2, P3, P4)


def _seed(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _archive(url: str, *rows: dict, failures: tuple[dict, ...] = ()) -> str:
    """A real archive (``archive_url``: SQLite, then PostgreSQL) holding ``rows``; the engine is
    closed so the CLI opens it again."""
    engine = make_engine(url)
    with make_sessionmaker(engine).begin() as session:
        for i, row in enumerate(rows):
            values = {
                "url": f"http://news.test/{i}.html",
                "domain": "news.test",
                "title": TITLE,
                "lede": LEDE,
                "body": CLEAN_BODY,
                "word_count": 100,
                "lang": "en",
                "fetched_at": datetime(2026, 11, 20, 9, 0),
                "content_hash": f"hash-{i}",
            }
            values.update(row)
            session.add(Article(**values))
        for failure in failures:
            session.add(FetchFailure(**failure))
    engine.dispose()
    return url


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _check_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code, out, err = _check(capsys, "--json", *args)
    assert code in (0, 1), err
    return code, json.loads(out)


# -- seed files -----------------------------------------------------------------------------------


def test_read_seed_tells_text_from_url_lists(tmp_path):
    text = read_seed(_seed(tmp_path, "a.txt", SEED_TEXT))
    assert isinstance(text, TextSeed)
    assert text.title == TITLE and text.title_line == 1
    assert text.lines[0] == (2, "Home | News | City | Sport")
    assert len(text.lines) == len([x for x in SEED_TEXT.splitlines() if x.strip()]) - 1

    urls = read_seed(_seed(tmp_path, "u.txt", "# my seeds\nhttp://a.test/1\n\nhttps://b.test/2  # note\n"))
    assert isinstance(urls, UrlSeed)
    assert urls.urls == ("http://a.test/1", "https://b.test/2")

    # A text whose lines start with # (hashtags) is still a text.
    mixed = read_seed(_seed(tmp_path, "m.txt", "http://a.test/1\n#Shorts are popular\nA headline of words\n"))
    assert isinstance(mixed, TextSeed)


def test_line_key_ignores_punctuation_case_and_spacing():
    assert line_key("“Hello,  World!”") == line_key('"hello, world"') == "hello world"
    assert line_key("बोली-डिलीटेड मोबाइल।") == "बोली डिलीटेड मोबाइल"  # vowel signs kept


@pytest.mark.parametrize(
    ("line", "marker", "kind"),
    [
        ("Share this article", None, "boilerplate"),
        ("यह भी पढ़ें- कांग्रेस का संसद में धरना", None, "boilerplate"),
        ("Home | News | City | Sport", None, "boilerplate"),
        ("Storm damage in the old town", "Latest Videos", "boilerplate"),
        ("Storm damage in the old town", None, "content"),
        (
            "The mayor said the reopening would cut journey times by twenty minutes.",
            "Latest Videos",
            "content",
        ),
        ("Read more books, the minister told pupils on Monday.", None, "content"),
    ],
)
def test_classify_absent(line, marker, kind):
    assert classify_absent(line, after_marker=marker)[0] == kind


# -- text seeds -----------------------------------------------------------------------------------


def test_clean_seed(archive_url, tmp_path, capsys):
    db = _archive(archive_url, {})
    seed = _seed(tmp_path, "bridge.txt", SEED_TEXT)
    code, out, err = _check(capsys, "--db", db, str(seed))
    assert code == 0, out + err
    assert "verdict: clean" in out
    assert "title: exact" in out
    assert "lede: found, seed line 4" in out
    assert "paragraphs: 6 of 6 content lines archived, in order" in out
    assert "absent, content (missing): 0" in out
    assert "absent, boilerplate (expected): 6" in out
    assert "[teaser under 'Latest Videos']" in out
    assert out.rstrip().endswith("1 seed: 1 clean")


def test_lost_paragraph_is_missing_content(archive_url, tmp_path, capsys):
    db = _archive(archive_url, {"body": _paras(P1, SUB, P2, P4)})
    seed = _seed(tmp_path, "bridge.txt", SEED_TEXT)
    code, report = _check_json(capsys, "--db", db, str(seed))
    assert code == 1 and report["ok"] is False
    (r,) = report["seeds"]
    assert r["verdict"] == "missing content"
    missing = [line for line in r["lines"] if line["kind"] == "content"]
    assert [(m["line"], m["text"]) for m in missing] == [(14, P3)]
    assert r["reasons"] == {"missing content": "1 content line not archived"}
    assert r["leaked"] == []
    code, out, _ = _check(capsys, "--db", db, str(seed))
    assert "absent, content (missing): 1\n    line 14: Shopkeepers" in out


def test_leaked_boilerplate(archive_url, tmp_path, capsys):
    also_read = "Also read: Ferry timetable changes from next week"
    body = _paras(P1, SUB, P2, also_read, P3, P4, "Sign up for our newsletter")
    db = _archive(archive_url, {"body": body})
    seed = _seed(tmp_path, "bridge.txt", SEED_TEXT)
    code, report = _check_json(capsys, "--db", db, str(seed))
    assert code == 1
    (r,) = report["seeds"]
    assert r["verdict"] == "leaked boilerplate" and r["problems"] == ["leaked boilerplate"]
    # "Also read" is a seed line that should not have been archived; the newsletter line is in neither.
    leaked = {x["text"]: x for x in r["leaked"]}
    assert set(leaked) == {also_read, "Sign up for our newsletter"}
    assert leaked[also_read]["seed_line"] == 12 and leaked["Sign up for our newsletter"]["seed_line"] is None
    assert all(x["looks_like"] == "boilerplate" and x["where"] == "body" for x in r["leaked"])
    code, out, _ = _check(capsys, "--db", db, str(seed))
    assert "paragraphs: 6 of 6 content lines archived, in order" in out
    assert "leaked (archived boilerplate or text not in the seed): 2" in out
    assert (
        "verdict: leaked boilerplate (1 boilerplate line of the seed archived; 1 archived line not in the seed)"
        in out
    )


def test_foreign_text_and_reordered_paragraphs(archive_url, tmp_path, capsys):
    body = _paras(P1, SUB, P3, P2, P4, "Weather tomorrow: sunny spells and a light breeze from the west.")
    db = _archive(archive_url, {"body": body})
    code, report = _check_json(capsys, "--db", db, str(_seed(tmp_path, "bridge.txt", SEED_TEXT)))
    (r,) = report["seeds"]
    assert code == 1
    assert r["problems"] == ["out of order", "leaked boilerplate"]
    moved = [x["text"] for x in r["lines"] if x["present"] and not x["in_order"]]
    assert moved in ([P2], [P3])  # one of the two swapped paragraphs is out of place
    assert r["leaked"][0]["looks_like"] == "foreign text"


def test_not_archived(archive_url, tmp_path, capsys):
    db = _archive(
        archive_url,
        {"title": "Council approves new cycling lanes", "lede": "Other text.", "body": "Cycling lanes."},
    )
    code, out, _ = _check(capsys, "--db", db, str(_seed(tmp_path, "bridge.txt", SEED_TEXT)))
    assert code == 1
    assert "verdict: not archived" in out and "no archived article has the title" in out


@pytest.mark.parametrize("with_index", [True, False])
def test_found_by_text_when_the_title_carries_the_site_name(archive_url, tmp_path, capsys, with_index):
    db = _archive(
        archive_url,
        {"title": "Council approves new cycling lanes", "lede": "Other text.", "body": "Cycling lanes."},
        {"title": TITLE + " - City Herald"},
    )
    seed = _seed(tmp_path, "bridge.txt", SEED_TEXT)
    if with_index:  # the CLI: candidates come from the full-text index
        code, report = _check_json(capsys, "--db", db, str(seed))
        (r,) = report["seeds"]
    else:  # an archive without the index (PostgreSQL's has none for this): every article is compared
        engine = make_engine(db, create=False)
        if engine.dialect.name == "sqlite":
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DROP TABLE {FTS_TABLE}")
        with make_sessionmaker(engine)() as session:
            assert _fts_candidates(session, read_seed(seed)) is None  # type: ignore[arg-type]
            (rep,) = check_text_seeds(session, [read_seed(seed)])  # type: ignore[list-item]
        engine.dispose()
        r, code = rep.to_dict(), (0 if rep.ok else 1)
    assert r["matched_by"] == "text overlap" and r["article"]["id"] == 2
    assert r["title"]["match"] == "archived title has extra text"
    assert r["verdict"] == "leaked boilerplate" and code == 1


def test_several_candidates_are_reported_and_the_best_compared(archive_url, tmp_path, capsys):
    db = _archive(archive_url, {"body": P1}, {})  # same title twice: a truncated copy, then the full one
    code, report = _check_json(capsys, "--db", db, str(_seed(tmp_path, "bridge.txt", SEED_TEXT)))
    (r,) = report["seeds"]
    assert r["article"]["id"] == 2 and r["candidates"] == [2, 1]
    assert "2 archived articles match by title" in r["notes"][0]
    assert r["verdict"] == "clean" and code == 0


# -- URL lists ------------------------------------------------------------------------------------


def test_url_list_coverage(archive_url, tmp_path, capsys):
    db = _archive(
        archive_url,
        {"url": "http://news.test/a.html"},
        {"url": "http://news.test/d-old.html", "canonical_url": "http://news.test/d.html", "title": "Other"},
        failures=(
            {
                "url": "http://news.test/b.html",
                "failed_at": datetime(2026, 11, 20, 9, 5),
                "http_status": 404,
                "reason": "http_error",
                "detail": "Not Found",
            },
            {
                "url": "http://news.test/b.html",
                "failed_at": datetime(2026, 11, 21, 9, 5),
                "http_status": 503,
                "reason": "http_error",
            },
            {"url": "http://news.test/e.html", "failed_at": datetime(2026, 11, 21, 9, 6), "reason": "robots"},
        ),
    )
    seed = _seed(
        tmp_path,
        "urls.txt",
        "# bridge coverage\nhttp://news.test/a.html\nhttp://news.test/b.html\n"
        "http://news.test/c.html\nhttp://news.test/d.html?utm_source=feed\nhttp://news.test/e.html\n",
    )
    code, report = _check_json(capsys, "--db", db, str(seed))
    assert code == 1
    (r,) = report["seeds"]
    assert r["kind"] == "urls" and r["verdict"] == "not covered"
    status = {u["url"]: u for u in r["urls"]}
    assert status["http://news.test/a.html"]["status"] == "archived"
    assert status["http://news.test/a.html"]["fetched_at"] == "2026-11-20T09:00:00Z"
    assert status["http://news.test/b.html"]["status"] == "failed"
    assert status["http://news.test/b.html"]["http_status"] == 503  # the latest failure
    assert status["http://news.test/b.html"]["attempts"] == 2
    assert status["http://news.test/c.html"]["status"] == "not reached"
    # Tracking parameters are dropped and canonical URLs count: d is archived.
    assert status["http://news.test/d.html?utm_source=feed"]["status"] == "archived"
    assert status["http://news.test/e.html"]["status"] == "disallowed"  # robots.txt
    assert r["counts"] == {"archived": 2, "failed": 1, "disallowed": 1, "skipped": 0, "not reached": 1}

    code, out, _ = _check(capsys, "--db", db, str(seed))
    assert "failed      http://news.test/b.html  HTTP 503 http_error" in out
    assert "verdict: not covered (2 archived, 1 failed, 1 disallowed, 1 not reached)" in out

    full = _seed(tmp_path, "full.txt", "http://news.test/a.html\n")
    code, out, _ = _check(capsys, "--db", db, str(full))
    assert code == 0 and "verdict: covered" in out


# -- usage errors ---------------------------------------------------------------------------------


def test_url_list_with_a_bad_line_is_reported_by_line(archive_url, tmp_path, capsys):
    """A URL list with one line that is not a URL is still a URL list: the line is reported, as
    `crawl --seeds` reports it, not the whole file checked as an article text."""
    db = _archive(archive_url, {})
    lines = "# coverage\nhttp://a.test/1\nhttp://a.test/2\na.test/3.html\nhttps://b.test/4  # note\n"
    seed = _seed(tmp_path, "u.txt", lines)
    code, out, err = _check(capsys, "--db", db, str(seed))
    assert code == 2, out + err
    assert f"{seed}:4: not an http(s) URL: 'a.test/3.html'" in err
    assert "article text" not in out and "not archived" not in out
    # The same line as crawl --seeds reports it (one reader for both).
    from tests.conftest import run_cli

    crawl = run_cli("crawl", "--seeds", str(seed), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert f"{seed}:4: not an http(s) URL: 'a.test/3.html'" in crawl.stderr


def test_usage_errors_exit_2(archive_url, tmp_path, capsys):
    db = _archive(archive_url, {})
    seed = _seed(tmp_path, "bridge.txt", SEED_TEXT)
    code, _, err = _check(capsys, "--db", db, str(tmp_path / "missing.txt"))
    assert code == 2 and "no seed file" in err
    code, _, err = _check(capsys, "--db", db, str(_seed(tmp_path, "empty.txt", "\n\n")))
    assert code == 2 and "is empty" in err
    code, _, err = _check(capsys, "--db", f"sqlite:///{tmp_path / 'nothing.db'}", str(seed))
    assert code == 2 and "no archive at" in err
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    code, _, err = _check(capsys, "--db", f"sqlite:///{garbage}", str(seed))
    assert code == 2 and "garbage.db" in err
    code, _, err = _check(capsys, "--db", db)
    assert code == 2
    assert "Traceback" not in err


# -- end to end -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("how", ["crawl", "demo"])
def test_crawl_then_check_the_shared_seed_is_clean(site, tmp_path, how):
    """A real crawl of the sample site (which holds the seed's article), then `crawler check` on the seeds:
    `crawler crawl` of the site served here, or `crawler demo` as the README shows it."""
    seeds = sorted(shared_path("seeds").glob("*.txt"))
    if not seeds:
        pytest.skip("../shared/seeds holds no seed files")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    if how == "crawl":
        proc = run_cli("crawl", site.url + "/", "--db", db, *FAST)
    else:
        proc = run_cli("demo", "--db", db, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("check", "--db", db, "--json", *map(str, seeds))
    report = json.loads(proc.stdout)
    hindi = next(r for r in report["seeds"] if r["seed"].endswith("000_4c5de6273566716c.txt"))
    assert hindi["verdict"] == "clean", json.dumps(hindi, ensure_ascii=False, indent=1)
    assert hindi["article"]["url"].endswith("/hi/politics/akhilesh-mamata-meeting.html")
    assert hindi["title"]["match"] == "exact" and hindi["lede"]["found"]
    assert all(x["present"] for x in hindi["lines"] if x["kind"] != "boilerplate")
    assert sum(1 for x in hindi["lines"] if x["kind"] == "boilerplate") >= 10
    assert proc.returncode == (0 if report["ok"] else 1)


def test_the_check_judges_boilerplate_by_the_seed_not_by_the_extractor_rules():
    """A line the extractor's lists call boilerplate but that reads as a sentence of the article is
    content to the check: had the extractor removed it, the check says "missing content"."""
    import inspect

    import crawler.check
    from crawler.boilerplate import is_boilerplate_line

    line = "Additional reporting by Jane Doe, who spoke to the fishermen at the harbour on Monday."
    assert is_boilerplate_line(line)
    assert classify_absent(line)[0] == "content"
    assert "crawler.boilerplate" not in inspect.getsource(crawler.check)


def test_seed_layout_repeated_lines_and_teaser_runs():
    from crawler.check import seed_layout

    lines = [
        "The ferry returns on Monday after a winter of repairs to its engines and hull.",
        "Latest Videos",
        "Drone footage of the bridge",
        "Storm damage in the old town",
        "The council said the timetable would stay the same until the spring, when it reviews it.",
        "Latest Videos",
    ]
    shapes = seed_layout(lines)
    assert shapes[1].marker and shapes[2].after_marker == "Latest Videos" and shapes[3].after_marker
    assert shapes[4].after_marker is None and not shapes[4].marker
    assert shapes[5].repeated and shapes[1].repeated
    assert classify_absent(lines[2], shape=shapes[2])[0] == "boilerplate"
    assert classify_absent(lines[4], shape=shapes[4])[0] == "content"
