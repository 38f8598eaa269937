"""`crawler demo` archives the bundled sample site; `crawler stats` reports it."""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import run_cli


@pytest.mark.slow
def test_demo_archives_sample_site_and_is_repeatable(tmp_path, manifest):
    db = tmp_path / "archive.db"
    first = run_cli("demo", "--db", f"sqlite:///{db}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    con = sqlite3.connect(db)
    rows = con.execute("SELECT url, title, lang FROM articles").fetchall()
    con.close()
    expected = [p for p in manifest if not p.get("robots_blocked") and not p.get("duplicate_of")]
    urls = {u for u, _, _ in rows}
    assert {"http://sample-news.example" + p["path"] for p in expected} <= urls
    assert {lang for _, _, lang in rows} >= {"hi", "en", "de", "fr", "es", "ru", "ar"}
    assert f"{len(rows)} articles archived from sample-news.example" in first.stdout
    # A second run updates the same rows (stable URLs), it does not duplicate them.
    second = run_cli("demo", "--db", f"sqlite:///{db}", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == len(rows)
    assert con.execute("SELECT count(*) FROM crawl_runs").fetchone()[0] == 2
    con.close()

    stats = run_cli("stats", "--db", f"sqlite:///{db}")
    assert stats.returncode == 0, stats.stderr
    assert "sample-news.example" in stats.stdout
    assert f"{len(rows)} articles" in stats.stdout
