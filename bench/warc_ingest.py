"""WARC ingest against the crawl on the same pages: records/s and articles/s of ``crawler ingest``.

Usage: python bench/warc_ingest.py [--pages 2000] [--skip-crawl]

The pages are bench/throughput.py's (the 173 pages of ``../shared/corpus-dev``, each copy made
unique, served on 127.0.0.1 with section pages and a sitemap). ``crawler crawl`` fetches them into a
fresh archive as in that benchmark; then every page the crawl requests (home, sections, articles)
is written, with its request, as WARC records of one gzip-per-record file (warcio), and ``crawler
ingest`` reads that file into another fresh archive. Both run in a subprocess with the project's
settings; wall time counts process start and the worker pool's start in both.
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
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    paths = ["/", *(f"/section/{k}/" for k in range(site.sections()))]
    paths += [site.article_path(n) for n in range(site.pages)]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--skip-crawl", action="store_true")
    args = parser.parse_args(argv)
    if not (CORPUS / "truth.jsonl").exists():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 2
    templates = [make_template(*page) for page in load_corpus(CORPUS)]
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
