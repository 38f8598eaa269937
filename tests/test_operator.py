"""What an operator meets: one time parser (ISO 8601 with ``Z`` and offsets) wherever a time is
read, one site and language normaliser, reversed ranges refused, plurals, exit codes (2 usage,
1 failed run), a runs table readable at 80 columns, the same 304 count in the crawl summary and in
``stats``, precise failure reasons, the README's examples true and leaving no untracked files."""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest

from archive.db import make_engine, make_sessionmaker
from archive.models import Article, CrawlRun
from crawler.cli import main
from crawler.incremental import parse_time
from crawler.sample_site import SITE_DIR
from crawler.siteserver import serve_directory
from tests.conftest import REPO, run_cli
from tests.newsgen import write_site


def _archive(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = make_engine(url)
    with make_sessionmaker(engine).begin() as session:
        for i, (domain, lang, fetched) in enumerate(
            [
                ("example-news.com", "en", datetime(2026, 11, 24, 15, 24, 37)),
                ("example-news.com", "hi", datetime(2026, 11, 24, 15, 30, 0)),
                ("other.test", "en", datetime(2026, 11, 25, 8, 0, 0)),
            ]
        ):
            session.add(
                Article(
                    url=f"https://www.{domain}/{i}.html",
                    domain=domain,
                    title=f"Story {i}",
                    body=f"Body of story {i} with enough words to count as text.",
                    word_count=11,
                    lang=lang,
                    fetched_at=fetched,
                    content_hash=f"h{i}",
                )
            )
        session.add(
            CrawlRun(
                spider="article",
                arguments={},
                started_at=datetime(2026, 11, 24, 15, 0, 0),
                finished_at=datetime(2026, 11, 24, 15, 5, 0),
                finish_reason="finished",
                requested=39,
                not_modified=18,
                not_requested=9,
                pages_fetched=32,
                archived=18,
                changed=0,
                unchanged=0,
                failed=3,
                skipped={"duplicate": 1, "non_html": 1, "not_article": 13},
                failures={"robots": 1, "http_404": 1, "connection_refused": 1},
            )
        )
    engine.dispose()
    return url


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- times ----------------------------------------------------------------------------------------


def test_one_iso_8601_parser():
    assert parse_time("2026-11-24") == date(2026, 11, 24)
    assert parse_time("2026-11-24T15:24:37Z") == datetime(2026, 11, 24, 15, 24, 37)
    assert parse_time("2026-11-24T20:54:37+05:30") == datetime(2026, 11, 24, 15, 24, 37)
    assert parse_time("2026-11-24 15:24") == datetime(2026, 11, 24, 15, 24)
    assert parse_time("2026-11-24T15:24:37.250Z") == datetime(2026, 11, 24, 15, 24, 37, 250000)
    for bad in ("yesterday", "2026-13-01", "24/11/2026", ""):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_export_reads_the_times_it_writes(tmp_path, capsys):
    db = _archive(tmp_path)
    out = tmp_path / "x.csv"
    base = ("export", "--db", db, "--out", str(out), "--fields", "url")
    code, _, err = _run(capsys, *base, "--until", "2026-11-24T15:24:37Z")
    assert code == 0, err
    assert out.read_text().split()[1:] == ["https://www.example-news.com/0.html"]
    code, _, err = _run(capsys, *base, "--since", "2026-11-24T21:00:00+05:30", "--until", "2026-11-24")
    assert code == 0, err
    assert out.read_text().split()[1:] == ["https://www.example-news.com/1.html"]
    # Reversed: refused in one line, not an empty export.
    code, _, err = _run(capsys, *base, "--since", "2026-11-25", "--until", "2026-11-24")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--since" in err and "--until" in err, err
    code, _, err = _run(capsys, *base, "--since", "last tuesday")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "last tuesday" in err, err


def test_reextract_reads_the_same_times(tmp_path, capsys):
    db = _archive(tmp_path)
    code, _, err = _run(capsys, "reextract", "--db", db, "--since", "2026-11-24T15:24:37Z", "--dry-run")
    assert code == 0, err
    code, _, err = _run(capsys, "reextract", "--db", db, "--since", "soon")
    assert code == 2 and len(err.strip().splitlines()) == 1, err


# -- sites and languages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "site",
    ["example-news.com", "www.example-news.com", "WWW.Example-News.COM", "https://www.example-news.com/x"],
)
def test_site_and_lang_are_normalised(tmp_path, capsys, site):
    db = _archive(tmp_path)
    out = tmp_path / "x.csv"
    code, _, err = _run(capsys, "export", "--db", db, "--out", str(out), "--fields", "url", "--site", site)
    assert code == 0, err
    assert len(out.read_text().split()[1:]) == 2
    code, _, err = _run(
        capsys, "export", "--db", db, "--out", str(out), "--fields", "url", "--site", site, "--lang", "EN"
    )
    assert code == 0, err
    assert out.read_text().split()[1:] == ["https://www.example-news.com/0.html"]
    code, _, err = _run(capsys, "reextract", "--db", db, "--site", site, "--dry-run")
    assert code == 0, err


def test_a_language_that_is_not_a_code_is_refused(tmp_path, capsys):
    db = _archive(tmp_path)
    code, _, err = _run(capsys, "export", "--db", db, "--out", str(tmp_path / "x.csv"), "--lang", "english!")
    assert code == 2 and "english!" in err, err
    code, _, err = _run(capsys, "search", "--db", db, "story", "--lang", "EN")
    assert code == 0, err
    code, _, err = _run(capsys, "search", "--db", db, 'story"', "--raw")
    assert code == 2 and len(err.strip().splitlines()) == 1, err


# -- wording --------------------------------------------------------------------------------------


def test_plurals(tmp_path, capsys):
    db = _archive(tmp_path)
    out = tmp_path / "x.csv"
    code, _, err = _run(capsys, "export", "--db", db, "--out", str(out), "--fields", "url", "--lang", "hi")
    assert code == 0, err
    assert "exported 1 article to" in err and "1 field)" in err, err
    from crawler.wording import plural

    assert plural(1, "page") == "1 page" and plural(2, "page") == "2 pages" and plural(0, "line") == "0 lines"


def test_runs_table_fits_80_columns(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    db = _archive(tmp_path)
    code, out, err = _run(capsys, "stats", "--db", db)
    assert code == 0, err
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    header = next(line for line in lines if "started" in line and "sent" in line)
    row = next(line for line in lines if "11-24 15:00" in line)
    # Whole words and numbers: requested 39, 304s 18, new 18; the reasons on their own lines.
    assert "new" in header and "304" in header and "failed" in header
    assert re.search(r"\b39\b", row) and re.search(r"\b18\b", row), row
    assert "http_404 1" in out and "connection_refused 1" in out


def test_stats_shows_the_304s_the_crawl_summary_counted(capsys):
    """The crawl summary's answered-304 total is what the run record keeps and stats shows."""
    from crawler.cli.crawl import report
    from crawler.run import CrawlResult
    from pipelines import run_counts

    stats = {
        "discovery/html_pages": 14,
        "downloader/request_count": 19,
        "incremental/known_urls": 18,
        "incremental/not_modified": 0,
        "incremental/cache_not_modified": 18,
        "archive/run_id": 2,
    }
    report(CrawlResult(stats=stats, finish_reason="finished", started=True), "sqlite:///x.db")
    out = capsys.readouterr().out
    assert "18 answered 304 not modified" in out, out
    assert run_counts(stats)["not_modified"] == 18


# -- exit codes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("crawl", "not a url"),
        ("crawl", "--seeds", "/nonexistent/seeds.txt"),
        ("crawl", "--sources", "/nonexistent/sources.toml"),
        ("crawl", "http://127.0.0.1:1/", "--revisit", "soon"),
        ("crawl", "http://127.0.0.1:1/", "--site", "x"),
        ("crawl",),
    ],
)
def test_usage_errors_exit_2(tmp_path, args):
    proc = run_cli(*args, "--db", f"sqlite:///{tmp_path / 'a.db'}")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "a.db").exists()


# -- README ---------------------------------------------------------------------------------------


def test_readme_outputs_are_ignored_by_git():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    written = set(re.findall(r"(?:--out|-O) (?!-)(\S+)", readme)) | {
        "archive.db",
        "logs/x.log",
        "jobs/hourly/x",
    }
    assert "articles.parquet" in written and "hi.jsonl" in written
    for name in sorted(written):
        ignored = subprocess.run(["git", "check-ignore", "-q", name], cwd=REPO, check=False)
        assert ignored.returncode == 0, f"{name} (written by a README example) is not in .gitignore"


def test_readme_names_the_shipped_seeds_and_the_postgres_extra():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme.split("## Development")[0]
    for name in re.findall(r"crawler/sample_site/seeds/([\w.-]+\.txt)", readme):
        assert (SITE_DIR / "seeds" / name).is_file(), name
    assert "crawler/sample_site/seeds/" in readme
    assert "news-archiver[postgres]" in readme
    assert "mkdir -p" in readme.split("### cron")[1].split("###")[0]
    # No article ids in console examples: they change from run to run.
    assert not re.search(r'"id":\d', readme) and "archived as #" not in readme


@pytest.mark.slow
def test_readme_check_example_with_the_shipped_seeds(tmp_path):
    demo = run_cli("demo", cwd=tmp_path, timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    seeds = SITE_DIR / "seeds"
    check = run_cli("check", str(seeds / "bus-fares-frozen.txt"), str(seeds / "coverage.txt"), cwd=tmp_path)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "verdict: clean" in check.stdout
    assert "verdict: not covered (2 archived, 0 failed, 1 disallowed, 1 not reached)" in check.stdout
    assert "2 seeds: 1 clean, 1 not covered" in check.stdout


@pytest.mark.slow
def test_one_article_alone_and_the_failure_reasons(tmp_path):
    """`crawl ARTICLE --max-depth 0` fetches that page alone (README); failed fetches carry
    precise reasons: http_404, tls, connection_refused."""
    import socket
    import sqlite3

    root = tmp_path / "site"
    write_site(root, 5)
    db = tmp_path / "a.db"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with serve_directory(root) as server:
        one = run_cli(
            "crawl", server.url + "/news/story-1.html", "--max-depth", "0", "--db", f"sqlite:///{db}"
        )
        assert one.returncode == 0, one.stderr
        assert "Archived 1 new" in one.stdout and "from 1 page " in one.stdout, one.stdout
        with server.lock:
            pages = {p for (_, p, _) in server.hits if p != "/robots.txt"}
        assert pages == {"/news/story-1.html"}
        seeds = tmp_path / "seeds.txt"
        port = server.url.rsplit(":", 1)[1]
        seeds.write_text(
            f"{server.url}/missing.html\nhttps://127.0.0.1:{port}/news/story-2.html\nhttp://127.0.0.1:{closed}/x.html\n"
        )
        bad = run_cli("crawl", "--seeds", str(seeds), "--db", f"sqlite:///{db}", "-s", "RETRY_TIMES=0")
    assert bad.returncode == 1 and "could not fetch any page" in bad.stderr, bad.stderr
    with sqlite3.connect(db) as con:
        reasons = dict(con.execute("SELECT url, reason FROM fetch_failures"))
    assert reasons[f"{server.url}/missing.html"] == "http_404"
    assert reasons[f"https://127.0.0.1:{port}/news/story-2.html"] == "tls"
    assert reasons[f"http://127.0.0.1:{closed}/x.html"] == "connection_refused"
