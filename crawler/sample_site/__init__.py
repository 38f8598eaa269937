"""The bundled sample news site: static pages served by :mod:`crawler.siteserver`.

A small multilingual news site (articles in Hindi, English, German, French, Spanish, Russian,
Arabic and Japanese; section pages; a sitemap index, a news sitemap, a gzipped sitemap, RSS and
Atom feeds; robots.txt) used by ``crawler demo``, the tests and the benchmarks. Absolute URLs in
the files are written as ``{{BASE}}``, which the server replaces with its base URL.
``manifest.json`` lists every article page and how it can be discovered.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["MANIFEST", "SITE_DIR"]

SITE_DIR = Path(__file__).parent
MANIFEST = SITE_DIR / "manifest.json"
