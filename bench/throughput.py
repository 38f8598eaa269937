"""Throughput benchmark: a full crawl of thousands of real pages over loopback, against bare trafilatura.

Usage: python bench/throughput.py [--pages 5000[,20000]] [--prefill 100000] [--skip-crawl] [--skip-insert]

It serves the 173 pages of ``../shared/corpus-dev`` on 127.0.0.1 (a threaded server in this
process), each under many distinct URLs, until there are ``--pages`` article pages, plus a home
page, section pages of 100 links and a sitemap index. Every copy is made unique: a short sentence
naming the copy is added at the end of a paragraph that extraction keeps, so each copy archives as
a new row instead of a duplicate. Pages are served as their raw bytes with ``Content-Type:
text/html`` and no charset (extraction sniffs it), with ``<base href>`` set to the page's original
address so that its own relative links lead off-site, as they would on the real site.

Then ``crawler crawl`` runs in a subprocess into a fresh SQLite archive with the project's settings,
politeness lifted for loopback (no AutoThrottle, no delay, 16 requests per domain), and it prints:

- end-to-end articles archived per second (archived rows / crawl wall time), next to the rate of
  bare ``trafilatura.extract`` in one process over the same pages (the yardstick, measured just
  before the crawl) and of our ``crawler.extract.extract`` in one process; and the rate of bare
  ``trafilatura.extract`` in one process per CPU at once (what the cores give together: on a
  shared 2-vCPU machine, less than twice one);
- peak RSS (and PSS, which counts pages shared between processes once) of the crawl process and
  all its descendants (fork server, extraction workers), sampled every 0.2 s; with two ``--pages``
  values, the ratio of the two peaks;
- the cost per article of ``archive.store.store_article`` in batched transactions, as the store
  pipeline runs it, on an empty archive and on one already holding ``--prefill`` rows.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpus-dev"
SECTION_SIZE = 100
SITEMAP_SIZE = 1000

_P_OPEN = re.compile(rb"<p[\s>]", re.IGNORECASE)
_P_CLOSE = re.compile(rb"</p\s*>", re.IGNORECASE)
_HEAD = re.compile(rb"<head[^>]*>", re.IGNORECASE)
_TAG = re.compile(rb"<[^>]*>")


# -- the pages ---------------------------------------------------------------------------------


@dataclass
class Template:
    """One corpus page, split where the copy's unique sentence goes (``suffix`` is None: no such place)."""

    page_id: str
    prefix: bytes
    suffix: bytes | None

    def copy(self, n: int) -> bytes:
        if self.suffix is None:
            return self.prefix
        return self.prefix + f" Reference copy {n} of this report.".encode("ascii") + self.suffix


def load_corpus(corpus: Path) -> list[tuple[str, str, bytes]]:
    """(id, original URL, raw bytes) of every page of the corpus."""
    truth = {}
    for line in (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            truth[record["id"]] = record["url"]
    pages = []
    for path in sorted((corpus / "pages").glob("*.html.gz")):
        page_id = path.name.removesuffix(".html.gz")
        pages.append((page_id, truth.get(page_id, ""), gzip.decompress(path.read_bytes())))
    return pages


def _paragraph_ends(html: bytes) -> list[int]:
    """Offsets of ``</p>`` tags, the paragraphs with the most text first."""
    ends = []
    for close in _P_CLOSE.finditer(html):
        start = max(
            (m.start() for m in _P_OPEN.finditer(html, max(0, close.start() - 20000), close.start())),
            default=-1,
        )
        if start < 0:
            continue
        text = _TAG.sub(b"", html[start : close.start()]).strip()
        ends.append((len(text), close.start()))
    return [pos for _, pos in sorted(ends, reverse=True)]


def make_template(page_id: str, url: str, html: bytes) -> Template:
    """Split the page where a sentence added to a paragraph ends up in the extracted text."""
    from crawler.extract import extract

    if url:
        head = _HEAD.search(html)
        base = f'<base href="{escape(url)}">'.encode("ascii", "xmlcharrefreplace")
        if head is not None:
            html = html[: head.end()] + base + html[head.end() :]
    for pos in _paragraph_ends(html)[:6]:
        probe = html[:pos] + b" Reference copy 987654321 of this report." + html[pos:]
        article = extract(probe, "http://127.0.0.1/probe.html")
        if article is not None and "987654321" in article.text:
            return Template(page_id, html[:pos], html[pos:])
    return Template(page_id, html, None)


# -- the server --------------------------------------------------------------------------------


class BenchSite(ThreadingHTTPServer):
    """Home page, sections, sitemaps and ``pages`` article URLs made of the templates."""

    daemon_threads = True

    def __init__(self, templates: list[Template], pages: int) -> None:
        self.templates = templates
        self.pages = pages
        self.requests = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def article_path(self, n: int) -> str:
        template = self.templates[n % len(self.templates)]
        return f"/news/{n // len(self.templates):04d}/{template.page_id}-{n}.html"

    def sections(self) -> int:
        return -(-self.pages // SECTION_SIZE)

    def body(self, path: str) -> tuple[int, str, bytes]:
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        if path == "/":
            links = "".join(
                f'<li><a href="/section/{k}/">Section {k}</a></li>' for k in range(self.sections())
            )
            return 200, "text/html; charset=utf-8", _listing("Bench news", links)
        if m := re.fullmatch(r"/section/(\d+)/", path):
            k = int(m.group(1))
            items = range(k * SECTION_SIZE, min(self.pages, (k + 1) * SECTION_SIZE))
            links = "".join(f'<li><a href="{self.article_path(n)}">Story {n}</a></li>' for n in items)
            return 200, "text/html; charset=utf-8", _listing(f"Section {k}", links)
        if path == "/sitemap.xml":
            maps = "".join(
                f"<sitemap><loc>{self.url}/sitemap-{k}.xml</loc></sitemap>"
                for k in range(-(-self.pages // SITEMAP_SIZE))
            )
            xml = f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{maps}</sitemapindex>'
            return 200, "application/xml", xml.encode()
        if m := re.fullmatch(r"/sitemap-(\d+)\.xml", path):
            k = int(m.group(1))
            items = range(k * SITEMAP_SIZE, min(self.pages, (k + 1) * SITEMAP_SIZE))
            urls = "".join(f"<url><loc>{self.url}{self.article_path(n)}</loc></url>" for n in items)
            xml = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            return 200, "application/xml", xml.encode()
        if m := re.fullmatch(r"/news/\d+/[\w-]+-(\d+)\.html", path):
            n = int(m.group(1))
            if n < self.pages and path == self.article_path(n):
                return 200, "text/html", self.templates[n % len(self.templates)].copy(n)
        return 404, "text/plain", b"not found\n"


def _listing(title: str, links: str) -> bytes:
    return (
        f"<!doctype html><html lang='en'><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<ul>{links}</ul></body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: BenchSite
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status, ctype, body = self.server.body(self.path.split("?", 1)[0])
        with self.server.lock:
            self.server.requests += 1
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


# -- measuring -------------------------------------------------------------------------------


def single_process_rates(pages: list[bytes], min_seconds: float = 8.0) -> dict[str, float]:
    """Pages per second of bare trafilatura.extract and of our extract, one process, same pages."""
    import trafilatura

    from crawler.extract import extract

    rates = {}
    for name, func in (("trafilatura", lambda p: trafilatura.extract(p)), ("ours", lambda p: extract(p))):
        for page in pages[:3]:
            func(page)  # warm up (lazy imports, detector profiles)
        done, started = 0, time.perf_counter()
        while True:
            for page in pages:
                func(page)
            done += len(pages)
            elapsed = time.perf_counter() - started
            if elapsed >= min_seconds:
                break
        rates[name] = done / elapsed
    return rates


def _bare_trafilatura_loop(pages: list[bytes], min_seconds: float) -> tuple[int, float]:
    import trafilatura

    for page in pages[:3]:
        trafilatura.extract(page)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < min_seconds:
        for page in pages:
            trafilatura.extract(page)
        done += len(pages)
    return done, time.perf_counter() - started


def parallel_trafilatura_rate(pages: list[bytes], processes: int, min_seconds: float = 8.0) -> float:
    """Pages per second of bare trafilatura.extract run in ``processes`` processes at once: what
    the machine's cores give when all of them extract (shared cores rarely give N times one)."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.starmap(_bare_trafilatura_loop, [(pages, min_seconds)] * processes)
    return sum(done / elapsed for done, elapsed in results)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, ValueError, IndexError):
        return 0.0


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB; (0, 0) when it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class MemorySampler(threading.Thread):
    """Peak summed RSS and PSS of a process tree, sampled every ``interval`` seconds, and CPU time.

    ``cpu`` maps each process seen to its last CPU time (a process's last fraction of a second
    before it exits is missed).
    """

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = self.peak_procs = 0
        self.cpu: dict[int, float] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            pids = _descendants(self.pid)
            sizes = [_memory_kb(p) for p in pids]
            for p in pids:
                self.cpu[p] = max(self.cpu.get(p, 0.0), _cpu_seconds(p))
            self.peak_rss = max(self.peak_rss, sum(s[0] for s in sizes))
            self.peak_pss = max(self.peak_pss, sum(s[1] for s in sizes))
            self.peak_procs = max(self.peak_procs, sum(1 for s in sizes if s[0]))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class CrawlFigures:
    pages: int
    archived: int  # article pages (under /news/) archived
    other_rows: int  # other pages archived (section pages extraction took for articles)
    wall: float
    run_span: float
    requests: int
    peak_rss_mb: float
    peak_pss_mb: float
    processes: int
    skipped: dict[str, int]
    failures: dict[str, int]
    cpu_main: float  # CPU seconds of the crawl process
    cpu_workers: float  # of its descendants (fork server, extraction workers)
    worker_idle: float | None  # seconds the extraction workers waited for a page, summed

    @property
    def rate(self) -> float:
        return self.archived / self.wall


def run_crawl(templates: list[Template], pages: int, workdir: Path, extra: list[str]) -> CrawlFigures:
    db = workdir / f"crawl-{pages}.db"
    site = BenchSite(templates, pages)
    thread = threading.Thread(target=site.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [
        sys.executable,
        "-m",
        "crawler",
        "crawl",
        site.url + "/",
        "--sitemap",
        site.url + "/sitemap.xml",
        "--db",
        f"sqlite:///{db}",
        "-s",
        "AUTOTHROTTLE_ENABLED=0",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=16",
        "--verbose",  # Scrapy's INFO log, for the stats it dumps at the end
        *extra,
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = MemorySampler(proc.pid)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.stop()
    site.shutdown()
    site.server_close()
    if proc.returncode != 0:
        raise RuntimeError(f"crawl failed ({proc.returncode}): {err[-2000:]}")
    import sqlite3

    con = sqlite3.connect(db)
    try:
        archived = con.execute(
            "SELECT count(*) FROM articles WHERE url LIKE ?", (f"{site.url}/news/%",)
        ).fetchone()[0]
        other_rows = con.execute("SELECT count(*) FROM articles").fetchone()[0] - archived
        start, end, skipped, failures = con.execute(
            "SELECT started_at, finished_at, skipped, failures FROM crawl_runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    span = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    return CrawlFigures(
        pages=pages,
        archived=archived,
        other_rows=other_rows,
        wall=wall,
        run_span=span,
        requests=site.requests,
        peak_rss_mb=sampler.peak_rss / 1024,
        peak_pss_mb=sampler.peak_pss / 1024,
        processes=sampler.peak_procs,
        skipped=json.loads(skipped or "{}"),
        failures=json.loads(failures or "{}"),
        cpu_main=sampler.cpu.get(proc.pid, 0.0),
        cpu_workers=sum(v for p, v in sampler.cpu.items() if p != proc.pid),
        worker_idle=_stat(err, "extract_pool/idle_seconds"),
    )


def _stat(log: str, name: str) -> float | None:
    """A number from the stats Scrapy dumps in its log at the end of a crawl."""
    m = re.search(rf"'{re.escape(name)}': ([0-9.]+)", log)
    return float(m.group(1)) if m else None


# -- insert cost -------------------------------------------------------------------------------


def _records(corpus: Path, start: int, count: int, *, html: list[bytes] | None) -> Iterator[dict[str, Any]]:
    """Article records like the store pipeline's, unique text each, from the corpus truth."""
    from archive.store import compress_html, content_hash

    truth = [
        json.loads(line) for line in (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines() if line
    ]
    html_z = [compress_html(h) for h in html] if html else None
    now = datetime.now(UTC).replace(tzinfo=None)
    for n in range(start, start + count):
        t = truth[n % len(truth)]
        paragraphs = t["body"].split("\n")
        lede, body = paragraphs[0], "\n\n".join(paragraphs[1:]) + f"\n\nReference copy {n} of this report."
        text = f"{lede}\n\n{body}"
        yield {
            "url": f"http://bench.example/news/{n}.html",
            "canonical_url": f"http://bench.example/news/{n}.html",
            "domain": "bench.example",
            "title": t.get("title") or f"Story {n}",
            "lede": lede,
            "body": body,
            "word_count": len(text.split()),
            "lang": t.get("lang"),
            "lang_confidence": 0.99,
            "declared_lang": t.get("lang"),
            "lang_source": "langdetect",
            "author": None,
            "published": "2026-11-24",
            "site_name": "Bench",
            "fetched_at": now,
            "content_hash": content_hash(text),
            "http_status": 200,
            "etag": None,
            "last_modified": None,
            "extractor_version": "bench",
            "final_url": f"http://bench.example/news/{n}.html",
            "content_type": "text/html",
            "content_language": None,
            "html_z": html_z[n % len(html_z)] if html_z else None,
        }


def _prefill(url: str, corpus: Path, count: int) -> None:
    """``count`` article rows (with full text and search index, without raw pages), bulk-inserted."""
    from sqlalchemy import insert

    from archive.db import make_engine, make_sessionmaker
    from archive.models import Article
    from archive.store import ARTICLE_FIELDS

    engine = make_engine(url)
    session_factory = make_sessionmaker(engine)
    chunk: list[dict[str, Any]] = []
    for record in _records(corpus, 10_000_000, count, html=None):
        chunk.append({k: v for k, v in record.items() if k in ARTICLE_FIELDS})
        if len(chunk) == 5000:
            with session_factory.begin() as session:
                session.execute(insert(Article), chunk)
            chunk = []
    if chunk:
        with session_factory.begin() as session:
            session.execute(insert(Article), chunk)
    engine.dispose()


def time_inserts(url: str, corpus: Path, html: list[bytes], count: int, batch: int) -> float:
    """Milliseconds per article of store_article, ``batch`` records a transaction (as the pipeline)."""
    from archive.db import make_engine, make_sessionmaker
    from archive.store import NEW, store_article

    engine = make_engine(url)
    session_factory = make_sessionmaker(engine)
    records = list(_records(corpus, 0, count, html=html))
    started = time.perf_counter()
    for i in range(0, len(records), batch):
        with session_factory.begin() as session:
            for record in records[i : i + batch]:
                if store_article(session, record) != NEW:
                    raise RuntimeError("expected a new article")
    elapsed = time.perf_counter() - started
    engine.dispose()
    return 1000 * elapsed / count


# -- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument(
        "--pages", default="5000", help="article pages per crawl; comma-separated for several crawls"
    )
    ap.add_argument("--prefill", type=int, default=100_000, help="rows already stored for the insert test")
    ap.add_argument("--inserts", type=int, default=2000, help="articles timed in the insert test")
    ap.add_argument("--skip-crawl", action="store_true")
    ap.add_argument("--skip-insert", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (archives) and print it")
    ap.add_argument("-s", "--set", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    args = ap.parse_args(argv)
    if not (args.corpus / "truth.jsonl").is_file():
        print(f"error: no corpus at {args.corpus}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    try:
        corpus = load_corpus(args.corpus)
        raw = [html for _, _, html in corpus]
        print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
        if not args.skip_crawl:
            t0 = time.perf_counter()
            templates = [make_template(pid, url, html) for pid, url, html in corpus]
            unique = sum(t.suffix is not None for t in templates)
            print(f"{len(templates)} pages, {unique} made unique per copy ({time.perf_counter() - t0:.1f} s)")
            extra = [x for setting in args.settings for x in ("-s", setting)]
            crawls = []
            for pages in [int(p) for p in args.pages.split(",")]:
                before = single_process_rates(raw)
                cores = os.cpu_count() or 1
                parallel = parallel_trafilatura_rate(raw, cores)
                figures = run_crawl(templates, pages, workdir, extra)
                crawls.append(figures)
                # The machine's speed drifts (shared cores): the yardstick is measured before and after
                # the crawl, and the crawl is read against their mean.
                after = single_process_rates(raw)
                rates = {k: (before[k] + after[k]) / 2 for k in before}
                rates["parallel"] = parallel
                print(
                    f"  yardstick before / after the crawl: trafilatura.extract {before['trafilatura']:.1f}"
                    f" / {after['trafilatura']:.1f} pages/s, our extract {before['ours']:.1f} / {after['ours']:.1f}"
                )
                print(
                    f"--pages {pages}: archived {figures.archived} articles (+{figures.other_rows} other pages)"
                    f" in {figures.wall:.1f} s"
                    f" (run {figures.run_span:.1f} s, {figures.requests} requests):"
                    f" {figures.rate:.1f} articles/s end to end;"
                    f" one process: trafilatura.extract {rates['trafilatura']:.1f}/s,"
                    f" our extract {rates['ours']:.1f}/s;"
                    f" ratio to trafilatura {figures.rate / rates['trafilatura']:.2f}x"
                )
                print(
                    f"  bare trafilatura.extract in {cores} processes at once: {rates['parallel']:.1f}/s"
                    f" ({rates['parallel'] / rates['trafilatura']:.2f}x one process, the machine's ceiling"
                    f" for a crawl that costs what trafilatura costs); end to end vs that:"
                    f" {figures.rate / rates['parallel']:.2f}x"
                )
                print(
                    f"  peak RSS {figures.peak_rss_mb:.0f} MB, PSS {figures.peak_pss_mb:.0f} MB"
                    f" ({figures.processes} processes); skipped {figures.skipped or 0};"
                    f" failures {figures.failures or 0}; load {os.getloadavg()[0]:.2f}"
                )
                if figures.worker_idle is not None:
                    busy = 1 - figures.worker_idle / (cores * figures.run_span)
                    print(
                        f"  extraction workers busy {busy:.0%} of the run ({figures.worker_idle:.1f} s idle in all)"
                    )
                per = 1000 / max(1, figures.archived)
                print(
                    f"  CPU per archived article: crawl process {figures.cpu_main * per:.1f} ms,"
                    f" workers {figures.cpu_workers * per:.1f} ms;"
                    f" one-process trafilatura.extract {1000 / rates['trafilatura']:.1f} ms,"
                    f" our extract {1000 / rates['ours']:.1f} ms; whole crawl per article vs trafilatura per"
                    f" page: {(figures.cpu_main + figures.cpu_workers) * rates['trafilatura'] / max(1, figures.archived):.2f}x"
                )
            if len(crawls) > 1:
                a, b = crawls[0], crawls[-1]
                print(
                    f"peak RSS {b.pages} vs {a.pages} pages: {b.peak_rss_mb / a.peak_rss_mb:.2f}x"
                    f" (PSS {b.peak_pss_mb / a.peak_pss_mb:.2f}x)"
                )
        if not args.skip_insert:
            empty = f"sqlite:///{workdir / 'empty.db'}"
            full = f"sqlite:///{workdir / 'full.db'}"
            t0 = time.perf_counter()
            _prefill(full, args.corpus, args.prefill)
            print(f"prefilled {args.prefill} rows in {time.perf_counter() - t0:.0f} s")
            from settings import ARCHIVE_BATCH_SIZE

            cost_empty = time_inserts(empty, args.corpus, raw, args.inserts, ARCHIVE_BATCH_SIZE)
            cost_full = time_inserts(full, args.corpus, raw, args.inserts, ARCHIVE_BATCH_SIZE)
            print(
                f"insert cost per article (batches of {ARCHIVE_BATCH_SIZE}): empty {cost_empty:.2f} ms,"
                f" with {args.prefill} rows {cost_full:.2f} ms ({cost_full / cost_empty:.2f}x)"
            )
    finally:
        if args.keep:
            print(f"work folder: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
