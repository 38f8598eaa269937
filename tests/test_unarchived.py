"""Every page that is not archived leaves a fetch_failures row that `crawler check` reports:
non-HTML responses, sitemaps and feeds that do not parse (entity expansion, external entities,
truncated XML, a feed that is not XML), refused redirects and loops."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import FAST, run_cli
from tests.faultserver import Route, serve_faults
from tests.newsgen import story_html

pytestmark = pytest.mark.slow

XML = {"Content-Type": "application/xml"}


def _sitemap(*locs: str, doctype: str = "", truncate: bool = False) -> bytes:
    entries = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    text = (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )
    if truncate:
        text = text[: text.rindex("<url>") + 10]  # cut inside the last entry
    return text.encode()


LAUGHS = (
    '<!DOCTYPE urlset [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    + "]>"
)


def test_unarchived_pages_are_recorded_and_checked(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-LINE", encoding="utf-8")
    with serve_faults({"/evil.dtd": Route(body=b"<!ENTITY x 'y'>")}, host="127.0.0.2") as other:
        xxe = (
            f'<!DOCTYPE urlset SYSTEM "{other.url}/evil.dtd" [<!ENTITY file SYSTEM "file://{secret}">'
            f'<!ENTITY remote SYSTEM "{other.url}/evil.dtd">]>'
        )
        routes: dict[str, Route] = {
            "/": Route(body=b'<html><body><a href="/report">report</a> <a href="/a1">a1</a></body></html>'),
            "/report": Route(
                body=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary", headers={"Content-Type": "application/pdf"}
            ),
            "/laughs.xml": Route(body=_sitemap("&lol9;", "/a2", doctype=LAUGHS), headers=XML),
            "/xxe.xml": Route(body=_sitemap("/a3", "&file;", "&remote;", doctype=xxe), headers=XML),
            "/truncated.xml": Route(body=_sitemap("/a4", "/a5", "/lost", truncate=True), headers=XML),
            "/feed": Route(
                body=b'{"items": [{"url": "/a6"}]}', headers={"Content-Type": "application/rss+xml"}
            ),
            "/go": Route.redirect(other.url + "/"),
        }
        for n in range(1, 7):
            routes[f"/a{n}"] = Route(body=story_html(n).encode())
        with serve_faults(routes) as site:
            base = site.url
            seeds = tmp_path / "urls.txt"
            seeds.write_text("\n".join(base + p for p in ("/report", "/go", "/a1")) + "\n", encoding="utf-8")
            db = tmp_path / "archive.db"
            proc = run_cli(
                "crawl",
                base + "/",
                "--seeds",
                str(seeds),
                *(
                    arg
                    for p in ("/laughs.xml", "/xxe.xml", "/truncated.xml")
                    for arg in ("--sitemap", base + p)
                ),
                "--feed",
                base + "/feed",
                "--db",
                f"sqlite:///{db}",
                *FAST,
            )
            assert proc.returncode == 0, proc.stderr
            assert other.requests == 0, other.hits  # no external DTD or entity fetched
    con = sqlite3.connect(db)
    archived = {u for (u,) in con.execute("SELECT url FROM articles")}
    # The URLs recovered from the bad sitemaps are still followed; the feed that is not XML has none.
    assert archived == {base + f"/a{n}" for n in range(1, 6)}
    dump = "\n".join(con.iterdump())
    assert "TOP-SECRET-LINE" not in dump and "lollollol" not in dump  # never read, never expanded
    con.close()

    listed = tmp_path / "check.txt"
    paths = ("/report", "/laughs.xml", "/xxe.xml", "/truncated.xml", "/feed", "/go", "/a1")
    listed.write_text("\n".join(base + p for p in paths) + "\n", encoding="utf-8")
    out = run_cli("check", str(listed), "--db", f"sqlite:///{db}", "--json")
    report = json.loads(out.stdout)
    entries = {e["url"].removeprefix(base): e for seed in report["seeds"] for e in seed["urls"]}
    seen = {path: (e["status"], e.get("reason")) for path, e in entries.items()}
    assert seen == {
        "/report": ("skipped", "non_html"),
        "/laughs.xml": ("failed", "bad_sitemap"),
        "/xxe.xml": ("failed", "bad_sitemap"),
        "/truncated.xml": ("failed", "bad_sitemap"),
        "/feed": ("failed", "bad_feed"),
        "/go": ("skipped", "offsite_redirect"),
        "/a1": ("archived", None),
    }
    assert entries["/truncated.xml"]["detail"].startswith("2 URLs recovered")
    assert entries["/report"]["http_status"] == 200
