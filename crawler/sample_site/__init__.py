"""The bundled sample news site: static pages served by :mod:`crawler.siteserver`.

A small multilingual news site used by ``crawler demo``, the tests and the benchmarks: 20 article
pages in English, German, French, Spanish, Russian, Arabic, Japanese and Hindi (three page templates),
section pages, a sitemap index (``/sitemap.xml``) with a Google news sitemap and a gzipped urlset, an
RSS feed (``/feed.xml``), an Atom feed (``/atom.xml``) and a ``robots.txt`` that disallows
``/private/``. Absolute URLs in the files are written as ``{{BASE}}``, which the server replaces
with its base URL.

``manifest.json`` describes the site; its ``articles`` list has one entry per article page::

    {"path": "/city/bus-fares-frozen.html", "lang": "en", "title": "...",
     "reachable_via": ["sitemap"],          # link (from "/"), sitemap, feed
     "listed_in": ["sitemap-news.xml"],     # which sitemap/feed files list it
     "robots_blocked": false, "duplicate_of": null,   # or the path of the original
     "template": "ledger", "published": "2026-11-23T11:05:00+00:00"}

plus ``non_article_pages`` (home, section and static pages) and ``non_html`` (PDF and image URLs
linked from articles, with their content type).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST", "SITE_DIR", "load_manifest"]

SITE_DIR = Path(__file__).parent
MANIFEST = SITE_DIR / "manifest.json"


def load_manifest() -> dict[str, Any]:
    """The parsed ``manifest.json`` of the sample site."""
    manifest: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return manifest
