"""Raw pages out as WARC: a crawl with ``--warc``, revisit records on 304s, re-extraction from the
WARC records, ``crawler export --format warc`` with its CDXJ index, rotation and repair of files.

warcio's own checker (``warcio check``, every digest verified) and indexer (``warcio index``) read
every file written here.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.warc import OPEN_SUFFIX, WarcFileWriter, read_payload, surt
from crawler.siteserver import serve_directory
from tests.conftest import FAST, run_cli
from tests.newsgen import write_site

WARCIO = Path(sys.executable).with_name("warcio")
N = 6


def _query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _check(path: Path) -> list[dict]:
    """``warcio check`` passes on the file; its records as ``warcio index`` lists them."""
    checked = subprocess.run(
        [str(WARCIO), "check", "-v", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "digest fail" not in checked.stdout
    index = subprocess.run(
        [
            str(WARCIO),
            "index",
            "-f",
            "warc-type,warc-target-uri,http:status,warc-payload-digest,offset",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in index.stdout.splitlines()]


@pytest.fixture
def gazette(tmp_path: Path):
    root = tmp_path / "site"
    write_site(root, N)
    with serve_directory(root) as server:
        yield server


def _crawl(db: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("crawl", url, "--db", f"sqlite:///{db}", *FAST, "-s", "CRAWLER_EXTRACT_WORKERS=1", *args)


@pytest.mark.slow
def test_crawl_writes_valid_warc_rows_point_to_their_records_and_304s_become_revisits(
    gazette, tmp_path: Path
):
    db, folder = tmp_path / "a.db", tmp_path / "warc"
    proc = _crawl(db, gazette.url + "/", "--warc", str(folder), "--no-keep-html")
    assert proc.returncode == 0, proc.stderr
    files = sorted(folder.iterdir())
    assert len(files) == 1 and files[0].name.endswith(".warc.gz")  # closed: no .open file left
    records = _check(files[0])
    assert records[0]["warc-type"] == "warcinfo"
    responses = [r for r in records if r["warc-type"] == "response"]
    requests = [r for r in records if r["warc-type"] == "request"]
    assert len(responses) == len(requests) >= N + 1  # home, articles, robots.txt (sitemap...)
    rows = _query(db, "SELECT url, warc_file, warc_offset, warc_record_id, payload_digest FROM articles")
    assert len(rows) == N
    for url, warc_file, offset, record_id, digest in rows:
        assert warc_file == str(files[0].resolve())
        with open(warc_file, "rb") as fh:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_headers.get_header("WARC-Target-URI") == url
            assert record.rec_headers.get_header("WARC-Record-ID") == record_id
            assert record.rec_headers.get_header("WARC-Payload-Digest") == digest
    assert _query(db, "SELECT count(*) FROM article_pages") == [(0,)]

    # Re-extraction from the WARC records alone (no stored pages) gives the rows back.
    before = _query(db, "SELECT url, title, lede, body, lang, content_hash FROM articles ORDER BY url")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE articles SET body = 'stale', title = 'stale'")
    proc = run_cli("reextract", "--db", f"sqlite:///{db}")
    assert proc.returncode == 0 and f"Re-extracted {N} stored pages" in proc.stdout, proc.stdout + proc.stderr
    assert f"{N} changed" in proc.stdout
    assert (
        _query(db, "SELECT url, title, lede, body, lang, content_hash FROM articles ORDER BY url") == before
    )

    # A re-crawl answered 304: revisit records pointing to the digest of the archived payload.
    proc = _crawl(db, gazette.url + "/", "--warc", str(folder), "--revisit", "0")
    assert proc.returncode == 0, proc.stderr
    second = sorted(set(folder.iterdir()) - set(files))
    assert len(second) == 1
    revisits = {r["warc-target-uri"]: r for r in _check(second[0]) if r["warc-type"] == "revisit"}
    for url, _, _, _, digest in rows:
        assert revisits[url]["http:status"] == "304"
        assert revisits[url]["warc-payload-digest"] == digest


@pytest.mark.slow
def test_export_warc_with_a_cdxj_index_that_warcio_reads(gazette, tmp_path: Path):
    db, folder = tmp_path / "a.db", tmp_path / "warc"
    # Half the rows with a WARC record, half with a stored page only (crawled before --warc).
    proc = _crawl(db, gazette.url + "/", "--max-depth", "0")
    assert proc.returncode == 0, proc.stderr
    proc = _crawl(db, gazette.url + "/", "--warc", str(folder))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out" / "selection.warc.gz"
    out.parent.mkdir()
    proc = run_cli("export", "--db", f"sqlite:///{db}", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"exported {N} pages" in proc.stderr
    records = _check(out)
    responses = [r for r in records if r["warc-type"] == "response"]
    urls = {u for (u,) in _query(db, "SELECT url FROM articles")}
    assert {r["warc-target-uri"] for r in responses} == urls
    lines = (out.parent / "selection.warc.gz.cdxj").read_text(encoding="utf-8").splitlines()
    assert len(lines) == N and lines == sorted(lines)
    for line in lines:
        key, stamp, fields = line.split(" ", 2)
        entry = json.loads(fields)
        assert key == surt(entry["url"]) and len(stamp) == 14 and entry["filename"] == out.name
        page = read_payload(str(out), int(entry["offset"]))
        assert page.url == entry["url"] and b"<html" in page.body
    assert sorted(p.name for p in out.parent.iterdir()) == ["selection.warc.gz", "selection.warc.gz.cdxj"]


def test_files_rotate_and_a_file_left_open_is_repaired(tmp_path: Path):
    body = b"<html><body><p>" + os.urandom(6000).hex().encode() + b"</p></body></html>"  # ~7 KB gzipped
    writer = WarcFileWriter(tmp_path, max_size=10_000, info={"operator": "tests"})
    for i in range(6):
        writer.write_exchange(
            f"http://news.example/{i}", status=200, headers=[("Content-Type", "text/html")], body=body
        )
    files = writer.close()
    assert len(files) >= 3 and not list(tmp_path.glob(f"*{OPEN_SUFFIX}"))
    for path in files:
        records = _check(Path(path))
        assert records[0]["warc-type"] == "warcinfo"
    # A writer killed mid-record leaves a .open file: the next writer cuts it after its last complete
    # record and renames it.
    folder = tmp_path / "killed"
    writer = WarcFileWriter(folder)
    for i in range(3):
        writer.write_exchange(f"http://news.example/k{i}", status=200, headers=[], body=body)
    assert writer._fh is not None
    writer._fh.close()  # the process dies: the file is left under its temporary name
    (left,) = folder.glob(f"*{OPEN_SUFFIX}")
    left.write_bytes(left.read_bytes()[:-300])  # the last request record cut short
    WarcFileWriter(folder).close()
    (repaired,) = folder.iterdir()
    assert repaired.name == left.name.removesuffix(OPEN_SUFFIX)
    kinds = [r["warc-type"] for r in _check(repaired)]
    assert kinds == ["warcinfo", "response", "request", "response", "request", "response"]


def test_a_record_that_fills_its_file_is_located_in_that_file(tmp_path: Path):
    """The location returned for the record after which the file rotates names that file (a revisit's
    was empty: its file name was read after the file had been closed)."""
    writer = WarcFileWriter(tmp_path, max_size=1)  # every exchange fills its file
    revisit = writer.write_revisit("http://news.example/r", status=304, headers=[])
    exchange = writer.write_exchange("http://news.example/e", status=200, headers=[], body=b"<html></html>")
    files = writer.close()
    assert [revisit.file, exchange.file] == files
    for location, kind in ((revisit, "revisit"), (exchange, "response")):
        with open(location.file, "rb") as fh:
            fh.seek(location.offset)
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_type == kind
            assert record.rec_headers.get_header("WARC-Record-ID") == location.record_id
