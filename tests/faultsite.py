"""A hostile news site for one crawl: good articles in several scripts mixed with every bad input
and HTTP fault the crawler must survive (served by :mod:`tests.faultserver` on 127.0.0.1).

:func:`fault_site` gives the routes and what a correct crawl does with each: the paths that must
be archived (``good``), and for every bad path the reasons its fetch_failures row may give.
:func:`crawl_process_tree_rss` samples the resident memory of a crawl and all its descendants
(extraction workers, fork server) from ``/proc``. Used by tests/test_faultsite.py and
bench/hostile.py; :func:`crawl_fault_site` runs one crawl of it and measures it.
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli

from crawler.sample_site import SITE_DIR
from tests.faultserver import FaultServer, Route

__all__ = ["FaultSite", "crawl_fault_site", "fault_site", "process_tree_rss"]

REPO = Path(__file__).resolve().parent.parent

HTML = {"Content-Type": "text/html; charset=utf-8"}
XML = {"Content-Type": "application/xml"}
MiB = 1024 * 1024

# Sample-site articles (ar, de, en, es, fr, hi, ja, ru) and how each is served.
_ARTICLES = {
    "/ar/economy/port-expansion.html": "retry-after",  # 429 Retry-After: 1, then the page
    "/city/bus-fares-frozen.html": "plain",
    "/city/council-approves-river-park.html": "plain",
    "/city/storm-warning-coast.html": "plain",
    "/de/stadt/neue-strassenbahnlinie.html": "gzip",
    "/de/wetter/wintereinbruch-waermestuben.html": "plain",
    "/es/ciencia/observatorio-cometa.html": "deflate",
    "/es/ciudad/mercado-central-reforma.html": "plain",
    "/fr/economie/fermeture-usine-papier.html": "br",
    "/fr/sport/club-de-handball-promu.html": "plain",
    "/hi/city/vayu-pradushan-abhiyan.html": "moved",  # reached through a 301 from /moved
    "/hi/politics/akhilesh-mamata-meeting.html": "plain",
    "/hi/sport/kabaddi-league.html": "plain",
    "/ja/science/robot-school.html": "503-once",
    "/ru/gorod/remont-mosta.html": "plain",
    "/ru/sport/khokkey-final.html": "gzip",
    "/science/lake-survey-finds-rare-mussel.html": "plain",
    "/sport/harriers-win-county-cup.html": "plain",
}
# The same text as /city/bus-fares-frozen.html under another URL: one of the two is archived.
DUPLICATE = ("/city/bus-fares-frozen.html", "/copy/bus-fares-frozen.html")

_LAUGHS = (
    '<!DOCTYPE urlset [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    + "]>"
)


@dataclass
class FaultSite:
    """Routes of the site and the expected outcome of one crawl of it."""

    routes: dict[str, Route]
    good: set[str]  # paths archived, exactly (one of DUPLICATE besides)
    bad: dict[str, set[str]]  # path -> acceptable fetch_failures reasons
    sitemaps: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)

    @property
    def faults(self) -> int:
        return len(self.bad)


def _sitemap(*locs: str, doctype: str = "", truncate: bool = False) -> bytes:
    entries = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    text = (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )
    if truncate:
        text = text[: text.rindex("<url>") + 10]
    return text.encode()


def fault_site(base: str, other: str, secret: Path) -> FaultSite:
    """The routes of the site served at ``base``; ``other`` is a second server (another loopback
    address) that nothing may reach; ``secret`` a file an external entity points at."""
    routes: dict[str, Route] = {}
    good: set[str] = set()
    for path, how in _ARTICLES.items():
        body = (SITE_DIR / path.lstrip("/")).read_bytes().replace(b"{{BASE}}", base.encode())
        if how == "plain":
            routes[path] = Route(body=body)
        elif how == "retry-after":
            routes[path] = Route(body=body, first=((429, {"Retry-After": "1"}),))
        elif how == "503-once":
            routes[path] = Route(body=body, first=((503, {}),))
        elif how == "gzip":
            routes[path] = Route(body=gzip.compress(body), headers={**HTML, "Content-Encoding": "gzip"})
        elif how == "deflate":
            routes[path] = Route(body=zlib.compress(body), headers={**HTML, "Content-Encoding": "deflate"})
        elif how == "br":
            routes[path] = Route(body=brotli.compress(body), headers={**HTML, "Content-Encoding": "br"})
        elif how == "moved":
            routes[path] = Route(body=body)
            routes["/moved"] = Route.redirect(path, 301)
        good.add(path)
    routes[DUPLICATE[1]] = routes[DUPLICATE[0]]

    page = routes["/city/storm-warning-coast.html"].body
    xxe = (
        f'<!DOCTYPE urlset SYSTEM "{other}/evil.dtd" [<!ENTITY file SYSTEM "file://{secret}">'
        f'<!ENTITY remote SYSTEM "{other}/evil.dtd">]>'
    )
    bad: dict[str, tuple[Route, set[str]]] = {
        # Content that is not an article page.
        "/files/report": (
            Route(
                body=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + os.urandom(4096),
                headers={"Content-Type": "application/pdf"},
            ),
            {"non_html"},
        ),
        "/binary.html": (Route(body=os.urandom(64 * 1024)), {"not_article", "empty_body"}),
        "/empty.html": (Route(body=b""), {"not_article", "empty_body"}),
        "/notext.html": (
            Route(body=b"<html><head><title>x</title></head><body><div></div></body></html>"),
            {"not_article", "empty_body"},
        ),
        "/emoji.html": (
            Route(
                body=("<html><body><article><p>" + "😀🎉🔥 " * 200 + "</p></article></body></html>").encode()
            ),
            {"not_article", "empty_body"},
        ),
        "/huge.html": (
            Route(body=b"<html><body>" + b"<p>big page</p>" * (25 * MiB // 15) + b"</body></html>"),
            {"too_large"},
        ),
        "/deep.html": (
            Route(
                body=b"<html><body>" + b"<div>" * 100_000 + b"deep" + b"</div>" * 100_000 + b"</body></html>"
            ),
            {"not_article", "empty_body", "extract_memory", "extract_timeout"},
        ),
        "/million.html": (
            Route(body=b"<html><body>" + b"<p>word</p>\n" * 1_000_000 + b"</body></html>"),
            # Bounded by the worker's memory limit, or by its time limit on a slower machine.
            {"extract_memory", "extract_timeout"},
        ),
        # Compression.
        "/bomb-gzip.html": (
            Route(
                body=gzip.compress(b"<p>" + b"a" * (256 * MiB)), headers={**HTML, "Content-Encoding": "gzip"}
            ),
            {"too_large"},
        ),
        "/bomb-deflate.html": (
            Route(body=zlib.compress(b" " * (256 * MiB), 9), headers={**HTML, "Content-Encoding": "deflate"}),
            {"too_large"},
        ),
        "/bomb-br.html": (
            Route(body=brotli.compress(b"a" * (256 * MiB)), headers={**HTML, "Content-Encoding": "br"}),
            {"too_large"},
        ),
        "/bomb-nested.html": (
            Route(
                body=gzip.compress(gzip.compress(b"<p>" * (64 * MiB))),
                headers={**HTML, "Content-Encoding": "gzip, gzip"},
            ),
            {"too_large"},
        ),
        "/corrupt-gzip.html": (
            Route(body=b"\x1f\x8b\x08\x00" + os.urandom(2048), headers={**HTML, "Content-Encoding": "gzip"}),
            {"bad_encoding"},
        ),
        # XML.
        "/sitemap-laughs.xml": (
            Route(body=_sitemap("&lol9;", "/hi/sport/kabaddi-league.html", doctype=_LAUGHS), headers=XML),
            {"bad_sitemap"},
        ),
        "/sitemap-xxe.xml": (
            Route(
                body=_sitemap("/ru/gorod/remont-mosta.html", "&file;", "&remote;", doctype=xxe), headers=XML
            ),
            {"bad_sitemap"},
        ),
        "/sitemap-truncated.xml": (
            Route(
                body=_sitemap(
                    "/sport/harriers-win-county-cup.html",
                    "/science/lake-survey-finds-rare-mussel.html",
                    "/x",
                    truncate=True,
                ),
                headers=XML,
            ),
            {"bad_sitemap"},
        ),
        "/feed-notxml": (
            Route(body=b'{"items": []}', headers={"Content-Type": "application/rss+xml"}),
            {"bad_feed"},
        ),
        # HTTP.
        "/always-503.html": (Route(body=b"", first=((503, {}),) * 10), {"http_503"}),
        "/gone.html": (Route(status=404, body=b"not here"), {"http_404"}),
        "/drip.html": (Route(body=page, fault="drip", drip=1, interval=1.0), {"timeout"}),
        "/reset.html": (Route(body=page, fault="reset"), {"data_loss"}),
        "/short.html": (Route(body=page, fault="short"), {"data_loss"}),
        "/loop-a": (Route.redirect("/loop-b"), {"redirect_loop"}),
        "/to-file": (Route.redirect("file:///etc/passwd"), {"bad_scheme"}),
        "/offsite": (Route.redirect(other + "/"), {"offsite_redirect"}),
    }
    routes["/loop-b"] = Route.redirect("/loop-a")
    for path, (route, _) in bad.items():
        routes[path] = route
    sitemaps = ["/sitemap-laughs.xml", "/sitemap-xxe.xml", "/sitemap-truncated.xml"]
    feeds = ["/feed-notxml"]
    linked = [p if _ARTICLES.get(p) != "moved" else "/moved" for p in _ARTICLES]
    linked += [DUPLICATE[1], *(p for p in bad if p not in sitemaps and p not in feeds)]
    index = "".join(f'<li><a href="{p}">{p}</a></li>' for p in linked)
    routes["/"] = Route(body=f"<html><body><h1>Hostile news</h1><ul>{index}</ul></body></html>".encode())
    routes["/robots.txt"] = Route(body=b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
    return FaultSite(
        routes=routes,
        good=good,
        bad={path: reasons for path, (_, reasons) in bad.items()},
        sitemaps=sitemaps,
        feeds=feeds,
    )


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree_rss(pid: int) -> dict[int, int]:
    """Resident memory (bytes) of process ``pid`` and each of its descendants, now (sum the values
    for the tree's total)."""
    tree = _children()
    rss: dict[int, int] = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        todo.extend(tree.get(p, ()))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss[p] = int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return rss


def crawl_fault_site(workdir: Path, *, repo: Path = REPO, python: str = sys.executable) -> dict[str, Any]:
    """Serve the fault site, crawl it once with the default settings (depth 1) in a subprocess into
    ``workdir``/archive.db while sampling the process tree's memory, and return the figures and the
    per-URL outcome (``failures``: path -> reason). ``repo`` and ``python``: the checkout and the
    interpreter that crawl (another checkout for a baseline)."""
    secret = workdir / "secret.txt"
    secret.write_text("TOP-SECRET-LINE\n", encoding="utf-8")
    other = FaultServer({"/": Route(body=b"nothing"), "/evil.dtd": Route(body=b"")}, host="127.0.0.2").start()
    server = FaultServer({}, max_requests=5000, lifetime=600).start()
    try:
        site = fault_site(server.url, other.url, secret)
        server.routes.update(site.routes)
        db = workdir / "archive.db"
        # Depth 1: the articles' own links (to sections the fault site does not have) are not followed.
        args = [python, "-m", "crawler", "crawl", server.url + "/", "--db", f"sqlite:///{db}"]
        args += ["--max-depth", "1"]
        for path in site.sitemaps:
            args += ["--sitemap", server.url + path]
        for path in site.feeds:
            args += ["--feed", server.url + path]
        env = {k: v for k, v in os.environ.items() if k.lower() != "http_proxy"}
        env["PYTHONPATH"] = str(repo)
        started = time.monotonic()
        proc = subprocess.Popen(
            args, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        peak, at_peak = 0, {}
        while proc.poll() is None:
            rss = process_tree_rss(proc.pid)
            if sum(rss.values()) > peak:
                peak, at_peak = sum(rss.values()), rss
            time.sleep(0.1)
        out, err = proc.communicate()
        seconds = time.monotonic() - started
        other_requests = other.requests
    finally:
        server.stop()
        other.stop()
    con = sqlite3.connect(db)
    archived = {url.removeprefix(server.url) for (url,) in con.execute("SELECT url FROM articles")}
    hashes = [h for (h,) in con.execute("SELECT content_hash FROM articles")]
    failures = {
        url.removeprefix(server.url): reason
        for url, reason in con.execute("SELECT url, reason FROM fetch_failures")
    }
    leaked = "TOP-SECRET-LINE" in "\n".join(con.iterdump())
    con.close()
    wanted = site.good
    copies = archived & set(DUPLICATE)
    lost = sorted(wanted - archived - set(DUPLICATE)) + ([] if copies else [DUPLICATE[0]])
    extra = sorted(archived - wanted - set(DUPLICATE))
    wrong = {p: failures.get(p, "not recorded") for p, ok in site.bad.items() if failures.get(p) not in ok}
    crashes = int(proc.returncode != 0) + err.count("Traceback")
    return {
        "inputs": len(wanted) + 1 + site.faults,
        "faults": site.faults,
        "good": len(wanted),
        "archived": len(archived),
        "crashes": crashes,
        "lost": lost,
        "extra": extra,
        "duplicates": len(hashes) - len(set(hashes)) + max(0, len(copies) - 1),
        "unrecorded_or_wrong": wrong,
        "peak_rss_mib": round(peak / 2**20),
        # The processes at the peak: the crawl, the fork server, the workers (MiB each).
        "peak_rss_by_process_mib": [round(v / 2**20) for v in at_peak.values()],
        "seconds": round(seconds, 1),
        "other_server_requests": other_requests,
        "secret_leaked": leaked,
        "returncode": proc.returncode,
        "stdout": out.strip().splitlines()[-6:],
        "failures": failures,
    }
