"""WARC ingest against the crawl on the same pages: records/s and articles/s of ``crawler ingest``.

Usage: python bench/warc_ingest.py [--pages 2000] [--skip-crawl]
       python bench/warc_ingest.py --split POSTGRES_URL [--pages 1000] [--files 8]

The pages are bench/throughput.py's (the 173 pages of ``../shared/corpus-dev``, each copy made
unique, served on 127.0.0.1 with section pages and a sitemap). ``crawler crawl`` fetches them into a
fresh archive as in that benchmark; then every page the crawl requests (home, sections, articles)
is written, with its request, as WARC records of one gzip-per-record file (warcio), and ``crawler
ingest`` reads that file into another fresh archive. Both run in a subprocess with the project's
settings; wall time counts process start and the worker pool's start in both.

``--split``: the pages are written as ``--files`` WARC files instead (consecutive pages in each), and
read into fresh PostgreSQL databases on the server at POSTGRES_URL (``tests/servers.sh start``): once
by one ``crawler ingest`` process given every file, then by two processes started together, each
given half of the list (``split -n r/2``: every other file) on standard input, as two machines would
be. Printed: records/s and articles/s of each (wall time until the last process exits) and the
ratio, and a check that the two-process archive holds the same articles as the one-process one,
each URL once, every file recorded once as finished.
"""

from __future__ import annotations

import argparse
import io
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.throughput import (
    CORPUS,
    BenchSite,
    MemorySampler,
    load_corpus,
    make_template,
    run_crawl,
)


def write_warc(site: BenchSite, path: Path) -> int:
    """The site's pages as request + response records; returns the number of records."""
    return write_warcs(site, [path])


def write_warcs(site: BenchSite, files: list[Path]) -> int:
    """The site's pages as request + response records, consecutive pages in each of ``files``;
    returns the number of records."""
    paths = ["/", *(f"/section/{k}/" for k in range(site.sections()))]
    paths += [site.article_path(n) for n in range(site.pages)]
    per_file = -(-len(paths) // len(files))
    return sum(
        _write_pages(site, paths[i * per_file : (i + 1) * per_file], file) for i, file in enumerate(files)
    )


def _write_pages(site: BenchSite, paths: list[str], path: Path) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    records = 0
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for page in paths:
            status, ctype, body = site.body(page)
            url = site.url + page
            request = StatusAndHeaders(
                f"GET {page} HTTP/1.1", [("Host", url.split("/")[2])], is_http_request=True
            )
            writer.write_record(writer.create_warc_record(url, "request", http_headers=request))
            http = StatusAndHeaders(
                f"{status} OK",
                [("Content-Type", ctype), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http)
            writer.write_record(record)
            record.raw_stream.close()
            records += 2
    return records


def run_ingest(warc: Path, db: Path, site_url: str) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "crawler", "ingest", str(warc), "--db", f"sqlite:///{db}"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = MemorySampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"ingest failed ({proc.returncode}): {err[-2000:]}")
    con = sqlite3.connect(db)
    try:
        archived = con.execute(
            "SELECT count(*) FROM articles WHERE url LIKE ?", (f"{site_url}/news/%",)
        ).fetchone()[0]
        records = con.execute("SELECT records FROM warc_files").fetchone()[0]
    finally:
        con.close()
    print(out.strip())
    return {
        "wall": wall,
        "records": records,
        "archived": archived,
        "cpu_main": sampler.cpu.get(proc.pid, 0.0),
        "cpu_workers": sum(v for p, v in sampler.cpu.items() if p != proc.pid),
        "peak_rss_mb": sampler.peak_rss / 1024,
    }


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_ingests(lists: list[list[Path]], db_url: str, work: Path, workers: int) -> float:
    """One ``crawler ingest - --db db_url`` per list (its paths on standard input, from a file as
    ``split`` writes them), started together; the wall time until the last one exits."""
    cmd = [sys.executable, "-m", "crawler", "ingest", "-", "--db", db_url]
    cmd += ["-s", f"CRAWLER_EXTRACT_WORKERS={workers}"]
    listings = []
    for i, files in enumerate(lists):
        listing = work / f"list-{i}.txt"
        listing.write_text("".join(f"{f}\n" for f in files))
        listings.append(listing.open())
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            cmd, cwd=ROOT, env=_env(), stdin=fh, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for fh in listings
    ]
    outputs = [proc.communicate() for proc in procs]
    wall = time.perf_counter() - started
    for fh in listings:
        fh.close()
    for proc, (out, err) in zip(procs, outputs, strict=True):
        if proc.returncode != 0:
            raise RuntimeError(f"ingest failed ({proc.returncode}): {err[-2000:]}")
        print("   ", out.strip().replace("\n", "\n    "))
    return wall


def archive_state(db_url: str, site_url: str) -> dict[str, object]:
    """What the archive at ``db_url`` holds: article URLs under /news/, files recorded, records read."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            urls = [u for (u,) in conn.execute(text("SELECT url FROM articles"))]
            failed = {
                u: r
                for u, r in conn.execute(
                    text("SELECT url, reason FROM fetch_failures WHERE reason LIKE 'extract_%'")
                )
            }
            files = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT path), count(finished_at), sum(records) FROM warc_files"
                )
            ).one()
    finally:
        engine.dispose()
    return {
        "urls": urls,
        "articles": sum(1 for u in urls if u.startswith(f"{site_url}/news/")),
        "files": tuple(files),
        "failed": failed,  # pages whose extraction failed (timeout, memory, error), by URL
    }


def split_bench(templates: list, pages: int, files: int, server_url: str, work: Path) -> int:
    from bench.scale_out import pg_database

    site = BenchSite(templates, pages)  # not served: only its pages are read
    site.server_close()
    warcs = [work / f"part-{i:02d}.warc.gz" for i in range(files)]
    records = write_warcs(site, warcs)
    size = sum(w.stat().st_size for w in warcs)
    print(f"WARC: {records} records in {files} files, {size / 1e6:.1f} MB")
    halves = [warcs[0::2], warcs[1::2]]  # split -n r/2: every other file
    runs = {
        "1 process, 2 workers": ([warcs], 2),
        "2 processes, 2 workers each": (halves, 2),
        "2 processes, 1 worker each": (halves, 1),
    }
    figures = {}
    for name, (lists, workers) in runs.items():
        with pg_database(server_url) as db_url:
            load = os.getloadavg()[0]
            wall = run_ingests(lists, db_url, work, workers)
            state = archive_state(db_url, site.url)
        figures[name] = (wall, state)
        print(
            f"{name}: {state['articles']} articles from {records} records in {wall:.1f} s = "
            f"{records / wall:.1f} records/s, {state['articles'] / wall:.1f} articles/s "
            f"(load {load:.1f} at start, {os.getloadavg()[0]:.1f} at the end)"
        )
    one_wall, one = figures["1 process, 2 workers"]
    problems = []
    for name, (wall, state) in figures.items():
        urls: list[str] = state["urls"]  # type: ignore[assignment]
        failed: dict[str, str] = state["failed"]  # type: ignore[assignment]
        if name != "1 process, 2 workers":
            print(f"{name} / 1 process, articles/s: {one_wall / wall:.2f}x")
        if len(urls) != len(set(urls)):
            problems.append(f"{name}: a URL stored twice")
        lost = set(one["urls"]) - set(urls) - set(failed)  # type: ignore[call-overload]
        if lost:
            problems.append(
                f"{name}: {len(lost)} articles of the one-process archive missing, no failure recorded"
            )
        if failed:
            print(
                f"    {name}: {len(failed)} extractions failed and recorded ({', '.join(sorted(set(failed.values())))})"
            )
        if state["files"] != (files, files, files, records):
            problems.append(f"{name}: warc_files (rows, paths, finished, records) {state['files']}")
    print(
        "check: "
        + ("; ".join(problems) if problems else "each URL once, none lost unrecorded, each file read once")
    )
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--skip-crawl", action="store_true")
    parser.add_argument("--split", metavar="POSTGRES_URL", help="one ingest process against two")
    parser.add_argument("--files", type=int, default=8, help="WARC files to write for --split")
    args = parser.parse_args(argv)
    if not (CORPUS / "truth.jsonl").exists():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 2
    templates = [make_template(*page) for page in load_corpus(CORPUS)]
    if args.split:
        with tempfile.TemporaryDirectory(prefix="bench-warc-") as tmp:
            return split_bench(templates, args.pages, args.files, args.split, Path(tmp))
    with tempfile.TemporaryDirectory(prefix="bench-warc-") as tmp:
        work = Path(tmp)
        if not args.skip_crawl:
            crawl = run_crawl(templates, args.pages, work, [])
            print(
                f"crawl:  {crawl.archived} articles in {crawl.wall:.1f} s = {crawl.rate:.1f} articles/s "
                f"({crawl.requests} requests, {crawl.requests / crawl.wall:.1f}/s); CPU/article "
                f"{1000 * crawl.cpu_main / crawl.archived:.1f} + {1000 * crawl.cpu_workers / crawl.archived:.1f} ms"
            )
        site = BenchSite(templates, args.pages)  # not served: only its pages are read
        warc = work / "bench.warc.gz"
        count = write_warc(site, warc)
        site.server_close()
        print(f"WARC: {count} records, {warc.stat().st_size / 1e6:.1f} MB")
        figures = run_ingest(warc, work / "ingest.db", site.url)
        print(
            f"ingest: {figures['archived']} articles from {figures['records']} records in {figures['wall']:.1f} s = "
            f"{figures['records'] / figures['wall']:.1f} records/s, {figures['archived'] / figures['wall']:.1f} articles/s; "
            f"CPU/article {1000 * figures['cpu_main'] / figures['archived']:.1f} + "
            f"{1000 * figures['cpu_workers'] / figures['archived']:.1f} ms; peak RSS {figures['peak_rss_mb']:.0f} MB"
        )
        if not args.skip_crawl:
            print(f"ingest / crawl articles/s: {figures['archived'] / figures['wall'] / crawl.rate:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
