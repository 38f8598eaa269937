"""The sources file: which sites a scheduled crawl visits, and how (``crawler crawl --sources``).

A TOML file with one ``[[site]]`` table per site and optional ``[defaults]`` for all of them::

    [defaults]
    revisit = "6h"          # archived pages fetched less than this ago are not requested again
    max_pages = 500         # page limit per site and run

    [[site]]
    name = "example-news"                        # letters, digits, '.', '_', '-'; unique
    start = ["https://www.example-news.com/"]    # home or section pages: links are followed
    feeds = ["https://www.example-news.com/rss.xml"]
    sitemaps = ["https://www.example-news.com/sitemap-news.xml"]
    sections = ["/world/", "/india/"]            # only pages under these paths (start pages aside)
    max_pages = 200
    max_depth = 2
    revisit = "12h"

Every site needs at least one of ``start``, ``feeds``, ``sitemaps``. Errors name the file, the
site and the key, in one line (:class:`SourcesError`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.incremental import DurationError, parse_duration
from crawler.urls import valid_http_url

__all__ = ["Site", "SourcesError", "load_sources", "parse_sources"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SITE_KEYS = {"name", "start", "feeds", "sitemaps", "sections", "max_pages", "max_depth", "revisit"}
_DEFAULT_KEYS = {"sections", "max_pages", "max_depth", "revisit"}


class SourcesError(ValueError):
    """The sources file cannot be read or is not valid; the message says where and why."""


@dataclass(frozen=True)
class Site:
    """One site of a sources file."""

    name: str
    start: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    max_pages: int | None = None  # None: the crawl's default (CRAWLER_MAX_PAGES)
    max_depth: int | None = None  # None: the crawl's default (CRAWLER_MAX_DEPTH)
    revisit_after: float | None = None  # seconds; None: the crawl's default (CRAWLER_REVISIT_AFTER)

    def allows(self, url: str) -> bool:
        """True when ``url`` lies in one of the allowed sections (or no sections are set)."""
        if not self.sections:
            return True
        path = urlsplit(url).path or "/"
        return any(path.startswith(prefix) for prefix in self.sections)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form (spider arguments, run records)."""
        return {
            "name": self.name,
            "start": list(self.start),
            "feeds": list(self.feeds),
            "sitemaps": list(self.sitemaps),
            "sections": list(self.sections),
            "max_pages": self.max_pages,
            "max_depth": self.max_depth,
            "revisit_after": self.revisit_after,
        }


def load_sources(path: str | Path) -> list[Site]:
    """Read and validate a sources file; raises :class:`SourcesError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"cannot read sources file {p}: {exc}") from exc
    return parse_sources(text, str(p))


def parse_sources(text: str, origin: str = "sources") -> list[Site]:
    """Parse and validate the TOML text of a sources file (``origin`` names it in errors)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{origin}: not valid TOML: {exc}") from exc
    unknown = set(data) - {"site", "defaults"}
    if unknown:
        raise SourcesError(f"{origin}: unknown table or key {min(unknown)!r} (expected [[site]], [defaults])")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise SourcesError(f"{origin}: [defaults] must be a table")
    bad = set(defaults) - _DEFAULT_KEYS
    if bad:
        raise SourcesError(f"{origin}: [defaults]: unknown key {min(bad)!r}")
    sites_data = data.get("site")
    if not sites_data:
        raise SourcesError(f"{origin}: no [[site]] tables")
    if not isinstance(sites_data, list):
        raise SourcesError(f"{origin}: 'site' must be an array of tables ([[site]])")
    sites: list[Site] = []
    seen: set[str] = set()
    for index, entry in enumerate(sites_data, 1):
        where = f"{origin}: site {index}"
        if not isinstance(entry, dict):
            raise SourcesError(f"{where}: must be a table")
        if isinstance(entry.get("name"), str):
            where += f" ({entry['name']!r})"
        site = _site({**defaults, **entry}, where)
        if site.name in seen:
            raise SourcesError(f"{where}: name: {site.name!r} is used twice")
        seen.add(site.name)
        sites.append(site)
    return sites


def _site(entry: Mapping[str, Any], where: str) -> Site:
    unknown = set(entry) - _SITE_KEYS
    if unknown:
        raise SourcesError(f"{where}: unknown key {min(unknown)!r} (expected one of {sorted(_SITE_KEYS)})")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SourcesError(f"{where}: name: required, letters, digits, '.', '_' or '-' (got {name!r})")
    urls = {key: _urls(entry, key, where) for key in ("start", "feeds", "sitemaps")}
    if not any(urls.values()):
        raise SourcesError(f"{where}: needs at least one of start, feeds, sitemaps")
    sections = _strings(entry, "sections", where)
    for section in sections:
        if not section.startswith("/"):
            raise SourcesError(f"{where}: sections: {section!r} must be a path starting with '/'")
    revisit = entry.get("revisit")
    revisit_after = None
    if revisit is not None:
        try:
            revisit_after = parse_duration(revisit)
        except DurationError as exc:
            raise SourcesError(f"{where}: revisit: {exc}") from exc
    return Site(
        name=name,
        start=urls["start"],
        feeds=urls["feeds"],
        sitemaps=urls["sitemaps"],
        sections=sections,
        max_pages=_count(entry, "max_pages", where),
        max_depth=_count(entry, "max_depth", where),
        revisit_after=revisit_after,
    )


def _strings(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SourcesError(f"{where}: {key}: must be a string or a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _urls(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    urls = _strings(entry, key, where)
    for url in urls:
        if not valid_http_url(url):
            raise SourcesError(f"{where}: {key}: not an http(s) URL: {url!r}")
    return urls


def _count(entry: Mapping[str, Any], key: str, where: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SourcesError(f"{where}: {key}: must be a whole number >= 0 (got {value!r})")
    return value
