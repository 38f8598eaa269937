"""Where a crawl may go: its own sites, and the addresses it may connect to.

A crawl's *own sites* are the sites (:func:`crawler.urls.site_key`: host without ``www.``, and
port) of the URLs the user gave: start URLs, seeds, and the start pages, feeds and sitemaps of a
sources file. Links, sitemap and feed entries and redirects to any other site are refused, so a
page (or a server's redirect) cannot send the crawler elsewhere.

Addresses outside the public internet (private, loopback, link-local, multicast, reserved,
shared and unspecified ranges: :func:`is_public_address`) are refused once a host name is
resolved, unless the setting CRAWLER_ALLOW_PRIVATE_ADDRESSES is on, or the host and port are
exactly those of a URL the user gave (a site served on loopback or on an intranet is crawled
because it was asked for; every other private address stays refused).

Pure rules, no Scrapy: the downloader middlewares in ``middlewares.py`` apply them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crawler.urls import site_key

__all__ = ["Reach", "host_port", "is_public_address"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_public_address(address: str) -> bool:
    """True for an IP address on the public internet; False for private, loopback, link-local,
    multicast, reserved, shared (100.64/10), unspecified addresses and IPv4 addresses mapped or
    embedded in IPv6 that are any of these. A string that is not an IP address is not public."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def host_port(url: str) -> tuple[str, int]:
    """The host (lower-cased) and port (the scheme's default when absent) a URL connects to."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(parts.scheme, 0)


@dataclass
class Reach:
    """The crawl's own sites and the exact host:port pairs the user asked for."""

    sites: set[tuple[str, int | None]] = field(default_factory=set)
    given: set[tuple[str, int]] = field(default_factory=set)

    @classmethod
    def of(cls, urls: Iterable[str]) -> Reach:
        """The reach of a crawl started from ``urls`` (every URL the user gave)."""
        reach = cls()
        for url in urls:
            reach.add(url)
        return reach

    def add(self, url: str) -> None:
        """Make ``url``, a URL the user gave (a start URL, or one pushed to a shared frontier), part
        of the reach: its site one of the crawl's own, its host and port allowed."""
        self.sites.add(site_key(url))
        self.given.add(host_port(url))

    def is_own(self, url: str) -> bool:
        """True when ``url`` is on one of the crawl's own sites."""
        return site_key(url) in self.sites

    def is_given(self, url: str) -> bool:
        """True when ``url`` connects to a host and port of a URL the user gave."""
        return host_port(url) in self.given
