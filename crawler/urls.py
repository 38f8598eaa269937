"""URL rules: which links are worth following, site identity, and URL-list (seed) files.

courlan judges the shape of a URL (file types, navigation/login/tag pages, tracking
parameters). It refuses IP-address and localhost hosts outright, which would rule out
crawling a site served on loopback, so the path is judged with a placeholder host and
the real host is checked separately (same site as the page the link came from).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import courlan

__all__ = [
    "SeedFileError",
    "domain_of",
    "is_followable",
    "normalize",
    "read_url_list",
    "same_site",
    "valid_http_url",
]

_PLACEHOLDER_HOST = "example.com"


class SeedFileError(ValueError):
    """A URL-list file cannot be read or holds a line that is not an http(s) URL."""


def valid_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _is_local_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# A site's navigation links recur on every page: the URL rules below are cached.
_CACHE_SIZE = 65_536


@lru_cache(maxsize=_CACHE_SIZE)
def normalize(url: str) -> str:
    """Clean a URL for de-duplication: drop fragments and tracking parameters, keep the host."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if _is_local_host(host):
        probe = urlunsplit((parts.scheme, _PLACEHOLDER_HOST, parts.path, parts.query, ""))
        cleaned = courlan.clean_url(probe) or probe
        cp = urlsplit(cleaned)
        return urlunsplit((parts.scheme, parts.netloc, cp.path or "/", cp.query, ""))
    return courlan.normalize_url(url)


@lru_cache(maxsize=_CACHE_SIZE)
def is_followable(url: str, *, with_nav: bool = True) -> bool:
    """True when ``url`` looks like a web page worth fetching (article or section page).

    Files (PDF, images, feeds), login/share/print-dialog links and other non-content
    URLs are refused by courlan's strict rules. Navigation pages (tags, categories)
    are kept when ``with_nav`` since they lead to articles.
    """
    if not valid_http_url(url):
        return False
    parts = urlsplit(url)
    probe = url
    if _is_local_host(parts.hostname or ""):
        probe = urlunsplit((parts.scheme, _PLACEHOLDER_HOST, parts.path, parts.query, ""))
    return courlan.check_url(probe, strict=True, with_nav=with_nav) is not None


def domain_of(url: str) -> str:
    """The site a URL belongs to: its host, lower-cased, without a leading ``www.``."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def same_site(url: str, other: str) -> bool:
    """True when both URLs are on the same site (host and port)."""
    a, b = urlsplit(url), urlsplit(other)
    return domain_of(url) == domain_of(other) and a.port == b.port


def read_url_list(path: str | Path) -> list[str]:
    """Read a URL-list file: one URL a line; blank lines and ``#`` comments are ignored.

    Raises SeedFileError naming the file and line when a line is not an http(s) URL.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedFileError(f"cannot read URL list {p}: {exc}") from exc
    urls: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        if " #" in line:
            line = line.split(" #", 1)[0].strip()
        if not valid_http_url(line):
            raise SeedFileError(f"{p}:{number}: not an http(s) URL: {line!r}")
        urls.append(line)
    return urls
