"""``crawler ingest``: WARC files built here with warcio go through the crawl's extraction and storage.

Real WARC files (tests/warcgen.py), a real SQLite archive under tmp_path reopened to check it, the
real worker pool, trafilatura and langdetect; the CLI runs in a subprocess like a user's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.warc_ingest import CorruptRecord, WarcEntry, read_records
from tests import warcgen
from tests.conftest import REPO, _env, run_cli
from tests.newsgen import story_html

pytestmark = pytest.mark.slow  # each test starts `crawler ingest` subprocesses (a worker pool)

FAST = ("-s", "CRAWLER_EXTRACT_WORKERS=2")


def _query(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def _ingest(db: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return run_cli("ingest", *args, "--db", f"sqlite:///{db}", *FAST, timeout=timeout)


def test_reader_skips_a_corrupt_member_and_a_cut_record(tmp_path: Path):
    path = warcgen.mixed_file(tmp_path / "mixed.warc.gz")
    entries = list(read_records(path))
    corrupt = [e for e in entries if isinstance(e, CorruptRecord)]
    assert len(corrupt) == 1 and entries.index(corrupt[0]) == 7  # after the third article's response
    assert [e.rec_type for e in entries if isinstance(e, WarcEntry)].count("response") == 9
    # Cut the file in the middle of the last article's response: that record is corrupt, the rest read.
    data = path.read_bytes()
    last = [e for e in entries if isinstance(e, WarcEntry) and e.url == warcgen.ARTICLES[-1].url][-1]
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: last.offset + 400])
    tail = list(read_records(cut))
    assert isinstance(tail[-1], CorruptRecord) and tail[-1].offset == last.offset
    assert [e.url for e in tail if isinstance(e, WarcEntry) and e.rec_type == "response"] == [
        p.url for p in warcgen.ARTICLES[:-1]
    ]


def test_ingest_archives_the_pages_and_counts_every_other_record(tmp_path: Path):
    warc = warcgen.mixed_file(tmp_path / "mixed.warc.gz")
    db = tmp_path / "archive.db"
    proc = _ingest(db, str(warc))
    assert proc.returncode == 0, proc.stderr
    assert "archived 6 new" in proc.stdout
    assert "Skipped: http_404 1, non_html 1, request 6, revisit 1, truncated 1, warcinfo 1" in proc.stdout
    assert "Failed: corrupt_record 1" in proc.stdout
    rows = {
        url: (lang, body, offset, record_id, digest)
        for url, lang, body, offset, record_id, digest in _query(
            db, "SELECT url, lang, body, warc_offset, warc_record_id, payload_digest FROM articles"
        )
    }
    assert set(rows) == {p.url for p in warcgen.ARTICLES}
    assert {rows[p.url][0] for p in warcgen.ARTICLES} == {"hi", "ru", "ja", "ar", "de", "en"}
    # Decoded by the HTTP header's charset (windows-1251, Shift_JIS), not the page's own <meta> (utf-8).
    ru = rows[warcgen.ARTICLES[1].url][1]
    ja = rows[warcgen.ARTICLES[2].url][1]
    assert "мост" in ru.lower() and "\ufffd" not in ru
    assert "ロボット" in ja and "\ufffd" not in ja
    # Each row points to its record: at that offset warcio finds the same URL, id and payload digest.
    with open(warc, "rb") as fh:
        for url, (_, _, offset, record_id, digest) in rows.items():
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_headers.get_header("WARC-Target-URI") == url
            assert record.rec_headers.get_header("WARC-Record-ID") == record_id
            assert record.rec_headers.get_header("WARC-Payload-Digest") == digest
    (run,) = _query(db, "SELECT spider, archived, failed, skipped, failures, finish_reason FROM crawl_runs")
    assert run[:3] == ("ingest", 6, 1) and run[5] == "finished"
    assert json.loads(run[3]) == {
        "http_404": 1,
        "non_html": 1,
        "request": 6,
        "revisit": 1,
        "truncated": 1,
        "warcinfo": 1,
    }
    (done,) = _query(db, "SELECT path, size, records, archived, failed, finished_at FROM warc_files")
    assert done[:5] == (str(warc), warc.stat().st_size, 18, 6, 1) and done[5] is not None
    failures = dict(_query(db, "SELECT url, reason FROM fetch_failures"))
    assert failures[f"{warcgen.SITE}/gone.html"] == "http_404"
    assert failures[f"{warcgen.SITE}/files/report.pdf"] == "non_html"
    assert any(reason == "corrupt_record" and url.startswith(str(warc)) for url, reason in failures.items())
    # The raw page is kept: re-extraction works on an ingested archive.
    proc = run_cli("reextract", "--db", f"sqlite:///{db}")
    assert proc.returncode == 0 and "Re-extracted 6 stored pages" in proc.stdout, proc.stderr


def test_a_second_ingest_reads_nothing_again(tmp_path: Path):
    warc = warcgen.mixed_file(tmp_path / "mixed.warc.gz")
    db = tmp_path / "archive.db"
    assert _ingest(db, str(warc)).returncode == 0
    before = _query(db, "SELECT id, url, content_hash, fetched_at FROM articles ORDER BY id")
    copy = tmp_path / "elsewhere" / "renamed.warc.gz"
    copy.parent.mkdir()
    shutil.copyfile(warc, copy)
    # The same file, a copy of it under another name (same digest), and the folder holding both.
    proc = _ingest(db, str(warc), str(tmp_path / "elsewhere"), str(tmp_path / "*.warc.gz"))
    assert proc.returncode == 0, proc.stderr
    assert (
        "Ingested 0 WARC files" in proc.stdout and "Already ingested, not read again: 2 files" in proc.stdout
    )
    assert _query(db, "SELECT id, url, content_hash, fetched_at FROM articles ORDER BY id") == before
    assert _query(db, "SELECT count(*) FROM article_versions") == [(0,)]
    assert _query(db, "SELECT count(*) FROM warc_files") == [(1,)]


def test_filters_site_lang_dates_and_max_records(tmp_path: Path):
    members = [warcgen.warcinfo()]
    for page in warcgen.ARTICLES:
        members.append(warcgen.page_record(page, date="2026-11-20T10:00:00Z"))
    other = "http://other.example/news/story-1.html"
    members.append(
        warcgen.response(other, story_html(1).replace("{{BASE}}", "http://other.example").encode())
    )
    late = "http://news.sample-news.example/late.html"
    members.append(
        warcgen.response(
            late, story_html(2).replace("{{BASE}}", warcgen.SITE).encode(), date="2026-12-24T10:00:00Z"
        )
    )  # a subdomain of the site, after --until
    warc = warcgen.write(tmp_path / "f.warc.gz", members)
    db = tmp_path / "a.db"
    sites = tmp_path / "sites.txt"
    sites.write_text("# one a line\nsample-news.example\n", encoding="utf-8")
    proc = _ingest(
        db, str(warc), "--sites", str(sites), "--lang", "ru", "--lang", "JA", "--until", "2026-11-30"
    )
    assert proc.returncode == 0, proc.stderr
    urls = {u for (u,) in _query(db, "SELECT url FROM articles")}
    assert urls == {warcgen.ARTICLES[1].url, warcgen.ARTICLES[2].url}
    (skipped,) = _query(db, "SELECT skipped FROM crawl_runs")[0]
    assert json.loads(skipped) == {"filtered": 6, "warcinfo": 1}  # 4 other languages, other site, too late
    # --max-records: stops, and the file is not recorded as done, so a later run reads it in full.
    db2 = tmp_path / "b.db"
    proc = _ingest(db2, str(warc), "--max-records", "3", "--site", "www.sample-news.example")
    assert proc.returncode == 0 and "Stopped after --max-records 3" in proc.stdout, proc.stderr
    assert _query(db2, "SELECT count(*) FROM articles") == [(2,)]
    assert _query(db2, "SELECT finished_at FROM warc_files") == [(None,)]
    proc = _ingest(db2, str(warc), "--site", "sample-news.example")
    assert proc.returncode == 0, proc.stderr
    assert _query(db2, "SELECT count(*) FROM articles") == [(7,)]  # the six and the subdomain's page
    assert _query(db2, "SELECT count(*), count(finished_at) FROM warc_files") == [(1, 1)]


def test_usage_errors_are_one_line(tmp_path: Path):
    db = tmp_path / "a.db"
    for args, message in (
        ((str(tmp_path / "missing.warc.gz"),), "no such WARC file or folder"),
        ((str(tmp_path / "*.warc"),), "no file matches"),
        ((str(tmp_path),), "no .warc or .warc.gz file in"),
        (("x.warc", "--lang", "english"), "not a language code"),
    ):
        if args[0] == "x.warc":
            (tmp_path / "x.warc").write_bytes(b"")
            args = (str(tmp_path / "x.warc"), *args[1:])
        proc = _ingest(db, *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def _many(tmp_path: Path, files: int = 3, per_file: int = 80) -> list[Path]:
    """Files of distinct English stories (each a request and a response record)."""
    paths = []
    for f in range(files):
        members = [warcgen.warcinfo()]
        for i in range(per_file):
            n = f * per_file + i
            url = f"{warcgen.SITE}/news/story-{n}.html"
            members.append(warcgen.request(url))
            members.append(warcgen.response(url, story_html(n).replace("{{BASE}}", warcgen.SITE).encode()))
        paths.append(warcgen.write(tmp_path / f"part-{f}.warc.gz", members))
    return paths


def _archive(db: Path) -> list[tuple]:
    return _query(
        db,
        "SELECT url, title, lede, body, lang, content_hash, fetched_at, warc_file, warc_offset, payload_digest "
        "FROM articles ORDER BY url",
    )


def test_killed_ingest_resumes_to_the_same_archive(tmp_path: Path):
    warcs = _many(tmp_path)
    whole = tmp_path / "whole.db"
    proc = _ingest(whole, *map(str, warcs))
    assert proc.returncode == 0 and "archived 240 new" in proc.stdout, proc.stderr
    killed = tmp_path / "killed.db"
    child = subprocess.Popen(
        [sys.executable, "-m", "crawler", "ingest", *map(str, warcs), "--db", f"sqlite:///{killed}", *FAST],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its worker pool is killed with it
    )
    deadline = time.monotonic() + 120
    count = 0
    while time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.1)
        try:
            count = _query(killed, "SELECT count(*) FROM articles")[0][0]
        except sqlite3.OperationalError:  # not made yet, or locked
            continue
        if count >= 100:
            break
    assert child.poll() is None, "the ingest ended before it could be killed"
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    assert 100 <= count < 240
    finished = _query(killed, "SELECT count(finished_at) FROM warc_files")[0][0]
    assert finished < 3
    proc = _ingest(killed, *map(str, warcs))
    assert proc.returncode == 0, proc.stderr
    assert f"Already ingested, not read again: {finished}" in proc.stdout or finished == 0
    assert _archive(killed) == _archive(whole)
    assert _query(killed, "SELECT count(*), count(finished_at) FROM warc_files") == [(3, 3)]
    assert _query(killed, "SELECT count(*) FROM article_versions") == [(0,)]


def test_paths_from_standard_input(tmp_path: Path):
    warcs = _many(tmp_path, files=2, per_file=3)
    db = tmp_path / "a.db"
    listing = "# the parts\n" + "\n".join(map(str, warcs)) + "\n"
    proc = subprocess.run(
        [sys.executable, "-m", "crawler", "ingest", "-", "--db", f"sqlite:///{db}", *FAST],
        cwd=REPO,
        env=_env(),
        input=listing,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0 and "Ingested 2 WARC files" in proc.stdout, proc.stderr
    assert _query(db, "SELECT count(*) FROM articles") == [(6,)]


def test_ingest_into_sqlite_and_postgresql_alike(archive_url: str, tmp_path: Path):
    """The same file into either archive: the same rows, the same counts; a second ingest reads nothing."""
    from sqlalchemy import create_engine, text

    warc = warcgen.mixed_file(tmp_path / "mixed.warc.gz")
    for _ in range(2):
        proc = run_cli("ingest", str(warc), "--db", archive_url, *FAST, timeout=180)
        assert proc.returncode == 0, proc.stderr
    assert "Already ingested, not read again: 1 file" in proc.stdout
    engine = create_engine(archive_url)
    try:
        with engine.connect() as conn:
            urls = {u for (u,) in conn.execute(text("SELECT url FROM articles"))}
            runs = conn.execute(text("SELECT archived, failed FROM crawl_runs ORDER BY id")).all()
            failures = dict(
                conn.execute(text("SELECT reason, count(*) FROM fetch_failures GROUP BY reason")).all()
            )
    finally:
        engine.dispose()
    assert urls == {p.url for p in warcgen.ARTICLES}
    assert [tuple(r) for r in runs] == [(6, 1), (0, 0)]
    # The corrupt record's error (warcio quotes the bytes it read, NULs included) is stored as text.
    assert failures == {"corrupt_record": 1, "http_404": 1, "non_html": 1, "truncated": 1}


def test_two_processes_with_overlapping_lists_read_each_file_once(archive_url: str, tmp_path: Path):
    """Two ingests started together on the same files into one archive: each file is read by one of
    them (the other puts it off while it is claimed), one warc_files row per file, each article once."""
    from sqlalchemy import create_engine, text

    from archive.db import make_engine

    warcs = _many(tmp_path, files=4, per_file=30)
    make_engine(archive_url).dispose()  # the archive made first (two processes creating one SQLite file race)
    cmd = [sys.executable, "-m", "crawler", "ingest", *map(str, warcs), "--db", archive_url, *FAST]
    children = [
        subprocess.Popen(cmd, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=240) for child in children]
    assert [child.returncode for child in children] == [0, 0], outputs
    engine = create_engine(archive_url)
    try:
        with engine.connect() as conn:
            articles = conn.execute(text("SELECT count(*), count(DISTINCT url) FROM articles")).one()
            files = conn.execute(
                text("SELECT path, count(*), count(finished_at), sum(records) FROM warc_files GROUP BY path")
            ).all()
            versions = conn.execute(text("SELECT count(*) FROM article_versions")).scalar()
    finally:
        engine.dispose()
    assert tuple(articles) == (120, 120)
    assert sorted(tuple(f) for f in files) == [(str(w), 1, 1, 61) for w in warcs]
    assert versions == 0
    read = [int(out.split("Ingested ", 1)[1].split(" ", 1)[0]) for out, _ in outputs]
    assert sum(read) == 4, outputs  # no file read twice


def test_ctrl_c_stops_the_ingest_and_a_rerun_completes_it(tmp_path: Path):
    """SIGINT to the ingest's process group (a terminal's Ctrl-C) mid-file: exit 130 with one line, the
    run closed as interrupted, the half-read file not recorded as finished; the same command again
    reads it and archives every story once."""
    warcs = _many(tmp_path, files=2, per_file=200)  # the first file still being read when it comes
    db = tmp_path / "archive.db"
    log = tmp_path / "ingest.log"
    args = ["ingest", *map(str, warcs), "--db", f"sqlite:///{db}", *FAST]
    # A terminal's foreground job gets Ctrl-C; one that inherits SIGINT ignored (a test run started in
    # the background) rightly ignores it, so the ingest starts with the default disposition here.
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    with log.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "crawler", *args],
            cwd=REPO,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    signal.signal(signal.SIGINT, ignored)
    try:
        deadline = time.monotonic() + 120
        count = 0
        while time.monotonic() < deadline and child.poll() is None and count < 20:
            time.sleep(0.05)
            try:
                count = _query(db, "SELECT count(*) FROM articles")[0][0]
            except sqlite3.OperationalError:  # not made yet, or locked
                continue
        assert child.poll() is None, "the ingest ended before it could be interrupted:\n" + log.read_text()
        os.killpg(child.pid, signal.SIGINT)
        rc = child.wait(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    output = log.read_text()
    assert rc == 130, output
    assert "interrupted" in output and "Traceback" not in output and "Warning" not in output, output
    assert len(output.strip().splitlines()) <= 3, output
    runs = _query(db, "SELECT finish_reason, finished_at IS NOT NULL, archived FROM crawl_runs")
    assert len(runs) == 1 and runs[0][:2] == ("interrupted", 1), runs
    files = _query(db, "SELECT path, finished_at FROM warc_files ORDER BY id")
    archived = _query(db, "SELECT count(*) FROM articles")[0][0]
    assert 20 <= archived < 400 and runs[0][2] <= archived
    assert files and files[-1][1] is None, files  # the file it was reading: not finished
    assert all(finished is not None for _, finished in files[:-1]), files
    again = run_cli(*args, timeout=180)
    assert again.returncode == 0, again.stderr
    assert f"Already ingested, not read again: {len(files) - 1}" in again.stdout or len(files) == 1
    urls = [u for (u,) in _query(db, "SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == 400
    assert _query(db, "SELECT count(*), count(finished_at) FROM warc_files") == [(2, 2)]
    assert _query(db, "SELECT count(*) FROM article_versions") == [(0,)]
    assert _query(db, "SELECT finish_reason FROM crawl_runs ORDER BY id") == [("interrupted",), ("finished",)]


def test_a_file_claimed_elsewhere_is_read_last_once_its_claim_ends(tmp_path: Path):
    """A file another ingest holds (here: this test's flock, as an ingest on SQLite takes it) is put off
    until the other files are read, then waited for; when the holder goes away without finishing it (a
    dead ingest), this ingest reads it."""
    import fcntl

    warcs = _many(tmp_path, files=2, per_file=5)
    db = tmp_path / "archive.db"
    held = os.open(warcs[0], os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        child = subprocess.Popen(
            [sys.executable, "-m", "crawler", "ingest", *map(str, warcs), "--db", f"sqlite:///{db}", *FAST],
            cwd=REPO,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        files: list[tuple] = []
        while time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.2)
            try:
                files = _query(db, "SELECT path, finished_at FROM warc_files")
            except sqlite3.OperationalError:
                continue
            if files and all(finished for _, finished in files):
                break
        time.sleep(1.5)  # the ingest now waits for the held file: it must not read it
        assert child.poll() is None, child.communicate()
        assert [(p, f is not None) for p, f in _query(db, "SELECT path, finished_at FROM warc_files")] == [
            (str(warcs[1]), True)
        ]
    finally:
        os.close(held)  # the holder goes away, the file not read
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert "Ingested 2 WARC files" in out, out
    rows = _query(db, "SELECT path, finished_at IS NOT NULL FROM warc_files ORDER BY id")
    assert rows == [(str(warcs[1]), 1), (str(warcs[0]), 1)]
    assert _query(db, "SELECT count(*), count(DISTINCT url) FROM articles") == [(10, 10)]


def test_a_full_disk_stops_the_ingest_with_one_line_and_a_rerun_completes_it(tmp_path: Path):
    """The archive's disk full mid-ingest (a size-limited SQLite): exit 1 with one line, no
    traceback, the database whole; with space again the same command archives every story once."""
    from archive.db import MAX_PAGE_COUNT_ENV, make_engine

    warcs = _many(tmp_path, files=1, per_file=120)
    db = tmp_path / "archive.db"
    make_engine(f"sqlite:///{db}").dispose()
    pages = _query(db, "PRAGMA page_count")[0][0]
    args = [sys.executable, "-m", "crawler", "ingest", *map(str, warcs), "--db", f"sqlite:///{db}", *FAST]
    env = _env() | {MAX_PAGE_COUNT_ENV: str(pages + 40)}
    full = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert full.returncode == 1, full.stderr[-3000:]
    assert "Traceback" not in full.stderr, full.stderr[-3000:]
    last = full.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ingest stopped: the archive's disk is full"), full.stderr[-3000:]
    assert _query(db, "PRAGMA integrity_check") == [("ok",)]
    stored = _query(db, "SELECT count(*) FROM articles")[0][0]
    assert stored < 120
    assert _query(db, "SELECT count(*) FROM warc_files WHERE finished_at IS NOT NULL") == [(0,)]
    again = _ingest(db, *map(str, warcs), timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert _query(db, "SELECT count(*), count(DISTINCT url) FROM articles") == [(120, 120)]
