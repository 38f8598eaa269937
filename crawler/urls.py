"""URL rules: which links are worth following, site identity, and URL-list (seed) files.

courlan judges the shape of a URL (file types, navigation/login/tag pages, tracking
parameters). It refuses IP-address and localhost hosts outright, which would rule out
crawling a site served on loopback, so the path is judged with a placeholder host and
the real host is checked separately (same site as the page the link came from).
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import courlan
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding
from w3lib.html import get_base_url

__all__ = [
    "SeedFileError",
    "domain_of",
    "is_followable",
    "looks_like_url_list",
    "normalize",
    "page_links",
    "read_url_list",
    "same_site",
    "site_key",
    "url_list_entries",
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


_DEFAULT_PORTS = {"http": 80, "https": 443}


@lru_cache(maxsize=_CACHE_SIZE)
def site_key(url: str) -> tuple[str, int | None]:
    """The site a URL belongs to, as compared by :func:`same_site`: its :func:`domain_of` and its
    port (None for the scheme's default port, so ``http://x/`` and ``https://x/`` are one site)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port that is not a number
        port = -1
    if port is not None and _DEFAULT_PORTS.get(parts.scheme) == port:
        port = None
    return domain_of(url), port


def same_site(url: str, other: str) -> bool:
    """True when both URLs are on the same site (host and port)."""
    return site_key(url) == site_key(other)


# -- links of a page -------------------------------------------------------------------------

# Where a link can start, or a comment, script or style that holds no links begins.
_OPEN_RE = re.compile(rb"<(?:(!--)|(script|style)\b|a\s)", re.IGNORECASE)
_HREF_RE = re.compile(rb"""[^>]*?(?<=[\s"'])href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_CLOSE_RE = {
    b"script": re.compile(rb"</script\s*>", re.IGNORECASE),
    b"style": re.compile(rb"</style\s*>", re.IGNORECASE),
}
_HTML_SPACE = " \t\n\f\r"
# Links that resolve the same way from every page of a site: /path, //host/path, scheme://...
_ORIGIN_RELATIVE = re.compile(r"^(?:/|[a-zA-Z][a-zA-Z0-9+.-]*://)")


@lru_cache(maxsize=_CACHE_SIZE)
def _join_origin(origin: str, href: str) -> str:
    return urljoin(origin, href)


def page_links(html: bytes, url: str, content_type: str | None = None) -> list[str]:
    """The absolute URLs of the ``<a href>`` links of an HTML page, each once, in page order.

    ``url`` is the page's address (a ``<base href>`` in the page overrides it); ``content_type``
    its HTTP header, for the charset of non-ASCII links. Links are found by scanning the raw bytes
    instead of parsing the page (a tenth of the time, and the crawl process parses nothing):
    ``<a>`` tags outside comments, scripts and styles, as an HTML parser would see them.
    """
    hrefs: dict[bytes, None] = {}
    pos, end = 0, len(html)
    while pos < end:
        m = _OPEN_RE.search(html, pos)
        if m is None:
            break
        if m.group(1):  # a comment
            close = html.find(b"-->", m.end())
            pos = end if close < 0 else close + 3
        elif m.group(2):  # a script or style
            closing = _CLOSE_RE[m.group(2).lower()].search(html, m.end())
            pos = end if closing is None else closing.end()
        else:
            pos = m.end()
            a = _HREF_RE.match(html, m.end() - 1)
            if a is not None:
                hrefs[a.group(1) or a.group(2) or a.group(3) or b""] = None
                pos = a.end()
    if not hrefs:
        return []
    encoding = (
        (http_content_type_encoding(content_type) if content_type else None)
        or html_body_declared_encoding(html[:4096])
        or "utf-8"
    )
    base = get_base_url(html[:4096], url, encoding)
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    links: dict[str, None] = {}
    for raw in hrefs:
        try:
            href = raw.decode("ascii")
        except UnicodeDecodeError:
            href = raw.decode(encoding, "replace")
        if "&" in href:
            href = unescape(href)
        href = href.strip(_HTML_SPACE)
        try:
            if _ORIGIN_RELATIVE.match(href):
                link = _join_origin(origin, href)
            else:
                link = urljoin(base, href)
        except ValueError:  # an invalid URL (bad IPv6 host...)
            continue
        links[link] = None
    return list(links)


def url_list_entries(text: str) -> list[tuple[int, str]]:
    """The entries of a URL list's ``text``, with their line numbers: one URL a line; blank lines,
    ``#`` comment lines and `` # note`` tails are not entries. Entries are not validated."""
    entries: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        entries.append((number, line.split(" #", 1)[0].strip()))
    return entries


def looks_like_url_list(text: str) -> bool:
    """True when most entries of ``text`` (more than half) are http(s) URLs: a URL list, maybe
    with a bad line, rather than an article's text."""
    entries = url_list_entries(text)
    urls = sum(1 for _, line in entries if " " not in line and valid_http_url(line))
    return bool(entries) and urls * 2 > len(entries)


def read_url_list(path: str | Path) -> list[str]:
    """Read a URL-list file: one URL a line; blank lines and ``#`` comments are ignored.

    Raises SeedFileError naming the file and line when a line is not an http(s) URL.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedFileError(f"cannot read URL list {p}: {exc}") from exc
    urls: list[str] = []
    for number, line in url_list_entries(text):
        if not valid_http_url(line):
            raise SeedFileError(f"{p}:{number}: not an http(s) URL: {line!r}")
        urls.append(line)
    return urls
