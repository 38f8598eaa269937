"""The general ``article`` spider: from start pages, sitemaps, feeds and seed files to raw pages.

Arguments (``scrapy crawl article -a NAME=VALUE`` or ``crawler crawl``):

- ``urls``: start URLs, separated by spaces or commas. Each may be an article, a section or
  home page, a sitemap (index, news, gzip) or an RSS/Atom feed: the response decides.
- ``seeds``: path of a URL-list file (one URL a line, ``#`` comments).
- ``sitemaps`` / ``feeds``: more start URLs, by kind (same handling; named for clarity).
- ``max_depth``: how many link hops to follow from a start page (setting CRAWLER_MAX_DEPTH).
- ``max_pages``: stop discovering pages after this many (setting CRAWLER_MAX_PAGES, 0 = none).
- ``sources``: path of a sources file (:mod:`crawler.sources`): per site start pages, feeds,
  sitemaps, allowed sections, page limit, link depth and revisit interval. ``sites`` (names,
  comma-separated) crawls only some of its sites.

Incremental crawls: every page request but the start pages carries ``meta["incremental"]``
(plus the site's ``revisit_after`` and the sitemap ``lastmod`` / feed date when known) for the
incremental downloader middleware, which may skip it or make it conditional. A skipped request
or a ``304 Not Modified`` answer comes back to :meth:`on_error`; a 304 becomes a
:class:`crawler.items.NotModifiedPage` item.

Resumable jobs: with the ``JOBDIR`` setting, every scheduled request is also written to the
job's durable frontier (:mod:`crawler.frontier`) before Scrapy sees it, so that a run killed
with SIGKILL can be restarted without losing pages.

The spider yields :class:`crawler.items.RawPage` for every HTML page and
:class:`crawler.items.FetchFailed` for every request that failed; non-HTML responses are
counted (``skipped/non_html``) and dropped here.
"""

from __future__ import annotations

import gzip
import logging
import re
import sqlite3
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import scrapy
from lxml import etree
from OpenSSL import SSL
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap
from twisted.internet.error import (
    ConnectError,
    ConnectionDone,
    ConnectionLost,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed
from twisted.web.http import PotentialDataLoss, _DataLoss

from crawler.clock import utcnow
from crawler.frontier import Frontier, JobLocked, has_pending_job
from crawler.items import HTML_TYPES, FetchFailed, NotModifiedPage, RawPage
from crawler.reach import Reach
from crawler.reasons import SKIP_REASONS, Reason, http_reason
from crawler.redis_frontier import redis_url_of
from crawler.sources import Site, load_sources
from crawler.urls import is_followable, normalize, page_links, read_url_list, valid_http_url
from middlewares import Refused

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

XML_TYPES = ("xml", "rss", "atom")
_SPLIT = re.compile(r"[\s,]+")
_ATOM = "{http://www.w3.org/2005/Atom}"
try:  # Scrapy decodes "br" with brotli when it is installed
    import brotli

    _BROTLI_ERRORS: tuple[type[Exception], ...] = (brotli.error,)
except ImportError:  # pragma: no cover
    _BROTLI_ERRORS = ()
# A document type declaration, with its internal subset (entity declarations) if any.
_DOCTYPE = re.compile(rb"<!DOCTYPE\b(?:[^\[>]|\[.*?\]\s*)*>", re.DOTALL | re.IGNORECASE)


def _split(value: str | Iterable[str] | None) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [u for u in _SPLIT.split(value) if u]
    return [u for u in value if u]


class SpiderArgumentError(ValueError):
    """The spider's arguments or settings cannot give a crawl: nothing to crawl, a bad URL or
    number, a busy or unusable job folder. Reported as one line; the crawl does not start."""


class _OneLine(logging.Filter):
    """``scrapy crawl`` lets asyncio log a failed start with its traceback; a
    :class:`SpiderArgumentError` is the user's mistake, not a bug: its message is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, SpiderArgumentError):
            record.msg, record.args, record.exc_info, record.exc_text = "%s", (str(exc),), None, None
        return True


_ONE_LINE = _OneLine()


def _refuse(message: str) -> SpiderArgumentError:
    for name in ("asyncio", "twisted"):
        logging.getLogger(name).addFilter(_ONE_LINE)
    return SpiderArgumentError(message)


def _count_arg(name: str, value: str | int | None, default: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _refuse(f"{name} must be a whole number, got {value!r}") from None
    if number < 0:
        raise _refuse(f"{name} must be 0 or more, got {number}")
    return number


class ArticleSpider(scrapy.Spider):
    name = "article"

    def __init__(
        self,
        urls: str | list[str] | None = None,
        seeds: str | None = None,
        sitemaps: str | list[str] | None = None,
        feeds: str | list[str] | None = None,
        max_depth: str | int | None = None,
        max_pages: str | int | None = None,
        sources: str | None = None,
        sites: str | list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # (url, source, site name); the unnamed site "" holds the URLs given directly.
        self.start_entries: list[tuple[str, str, str]] = []
        self.sites: dict[str, Site] = {"": Site(name="")}
        for url in _split(urls):
            self.start_entries.append((url, "start", ""))
        if seeds:
            self.start_entries.extend((url, "seed", "") for url in read_url_list(seeds))
        self.start_entries.extend((url, "sitemap", "") for url in _split(sitemaps))
        self.start_entries.extend((url, "feed", "") for url in _split(feeds))
        if sources:
            wanted = set(_split(sites))
            chosen = [site for site in load_sources(sources) if not wanted or site.name in wanted]
            missing = wanted - {site.name for site in chosen}
            if missing:
                raise ValueError(f"no site named {min(missing)!r} in {sources}")
            for site in chosen:
                self.sites[site.name] = site
                self.start_entries.extend((url, "start", site.name) for url in site.start)
                self.start_entries.extend((url, "sitemap", site.name) for url in site.sitemaps)
                self.start_entries.extend((url, "feed", site.name) for url in site.feeds)
        bad = [url for url, _, _ in self.start_entries if not valid_http_url(url)]
        if bad:
            raise ValueError(f"not an http(s) URL: {bad[0]!r}")
        # The crawl's own sites: links, entries and redirects to any other site are refused.
        self.reach = Reach.of(url for url, _, _ in self.start_entries)
        self._arg_depth = max_depth
        self._arg_pages = max_pages
        self.max_depth = 3
        self.max_pages = 0
        self.pages_scheduled: set[str] = set()
        self.site_pages: Counter[str] = Counter()
        self.frontier: Frontier | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ArticleSpider:
        """The spider, or :class:`SpiderArgumentError` (one line) before anything has started."""
        try:
            spider = super().from_crawler(crawler, *args, **kwargs)
        except SpiderArgumentError:
            raise
        except ValueError as exc:  # a bad URL, seed file or sources file
            raise _refuse(str(exc)) from exc
        settings = crawler.settings
        try:
            depth_default = settings.getint("CRAWLER_MAX_DEPTH", 3)
            pages_default = settings.getint("CRAWLER_MAX_PAGES", 0)
        except ValueError as exc:
            raise _refuse(f"bad setting: {exc}") from exc
        spider.max_depth = _count_arg("max_depth", spider._arg_depth, depth_default)
        spider.max_pages = _count_arg("max_pages", spider._arg_pages, pages_default)
        jobdir = settings.get("JOBDIR")
        # A fleet member on a shared Redis frontier works from the queue with no URLs of its own.
        if (
            not spider.start_entries
            and not (jobdir and has_pending_job(jobdir))
            and not redis_url_of(settings)
        ):
            raise _refuse(
                "nothing to crawl: give -a urls=URL[,URL...], -a seeds=FILE, -a sitemaps=URL, "
                "-a feeds=URL or -a sources=FILE"
            )
        if jobdir:
            # Opened before Scrapy's scheduler, which reads the JOBDIR state this may reset.
            try:
                spider.frontier = Frontier(jobdir)
            except JobLocked as exc:
                raise _refuse(str(exc)) from exc
            except (OSError, sqlite3.Error) as exc:
                raise _refuse(f"cannot use the job folder {jobdir}: {exc}") from exc
            spider.pages_scheduled = spider.frontier.keys()
            spider.site_pages = spider.frontier.page_counts()
        return spider

    def closed(self, reason: str) -> None:
        if self.frontier is not None:
            self.frontier.close(reason)

    # -- requests ----------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url, source, site in self.start_entries:
            request = self.start_request(url, source, site)
            if request is not None:
                yield request
        if self.frontier is not None and self.frontier.crashed:
            self.logger.warning(
                "job %s did not stop cleanly: rescheduling its %d recorded requests",
                self.frontier.jobdir,
                len(self.frontier),
            )
            self.crawler.stats.set_value("frontier/rescheduled", len(self.frontier))
            for entry in self.frontier.entries():
                meta = {**entry.meta, "job_started": self.frontier.started_at.isoformat()}
                yield self._make(entry.url, meta, dont_filter=True)
        self._commit()

    def start_request(self, url: str, source: str = "start", site: str = "") -> scrapy.Request | None:
        """The request for a start URL (``source``: start, seed, sitemap or feed), or None when
        this crawl has it already; also used for the start URLs a shared frontier hands out."""
        seed = source == "seed"  # seeds are article pages; the others lead to articles
        self.reach.add(url)  # a start URL a shared frontier hands out was given by a user too
        return self._request(
            url,
            source=source,
            depth=0,
            site=site,
            is_page=seed,
            incremental=seed,
            record=False,
            cacheable=source in ("sitemap", "feed"),
        )

    def _site_of(self, meta: Any) -> Site:
        return self.sites.get(meta.get("site", ""), self.sites[""])

    def _request(
        self,
        url: str,
        *,
        source: str,
        depth: int,
        site: str = "",
        is_page: bool = True,
        incremental: bool = True,
        record: bool = True,
        **meta: Any,
    ) -> scrapy.Request | None:
        """A request for ``url``, or None once the site's page limit is reached or it was seen.

        With a job folder, the request is recorded in the job's frontier unless ``record`` is
        False (start requests: :meth:`start` makes them again); call :meth:`_commit` before
        handing recorded requests to Scrapy.
        """
        if is_page:
            key = normalize(url)
            if key in self.pages_scheduled:
                return None
            config = self.sites.get(site, self.sites[""])
            limit = config.max_pages if config.max_pages is not None else self.max_pages
            if limit and self.site_pages[site] >= limit:
                self.crawler.stats.inc_value("discovery/over_page_limit")
                return None
            self.pages_scheduled.add(key)
            self.site_pages[site] += 1
        else:
            key = url
        meta = {"source": source, "link_depth": depth, "site": site, **meta}
        if incremental:
            meta["incremental"] = True
            revisit = self.sites.get(site, self.sites[""]).revisit_after
            if revisit is not None:
                meta["revisit_after"] = revisit
        if self.frontier is not None:
            if record:
                self.frontier.add(key, url, site=site, is_page=is_page, meta=meta)
            meta["job_started"] = self.frontier.started_at.isoformat()
        return self._make(url, meta)

    def _make(self, url: str, meta: dict[str, Any], dont_filter: bool = False) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse, errback=self.on_error, meta=meta, dont_filter=dont_filter
        )

    def _commit(self) -> None:
        if self.frontier is not None:
            self.frontier.commit()

    # -- responses ---------------------------------------------------------------------------

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        ctype = (response.headers.get("Content-Type") or b"").decode("latin-1").lower()
        body = response.body
        if body[:2] == b"\x1f\x8b" or "gzip" in ctype:
            try:
                body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
            except _DecompressionMaxSizeExceeded as exc:  # a gzip bomb: stopped at the size cap
                self.crawler.stats.inc_value(f"skipped/{Reason.TOO_LARGE}")
                yield self._bad_xml(response, Reason.TOO_LARGE, f"gzip body over DOWNLOAD_MAXSIZE: {exc}")
                return
            except (OSError, ValueError, EOFError):  # not gzip after all
                yield self._non_html(response)
                return
            ctype = "application/xml"
        head = body[:1024].lstrip().lower()
        if any(t in ctype for t in HTML_TYPES) or (not ctype and b"<html" in head):
            yield from self._page(response)
        elif any(t in ctype for t in XML_TYPES) or head.startswith(b"<?xml"):
            yield from self._xml(response, body)
        else:
            self.logger.debug("not HTML (%s): %s", ctype or "no content type", response.url)
            yield self._non_html(response)

    def _non_html(self, response: Response) -> FetchFailed:
        """Count a response that is neither a page, a sitemap nor a feed; record it as skipped."""
        self.crawler.stats.inc_value("skipped/non_html")
        return FetchFailed(
            url=response.request.url if response.request else response.url,
            reason=Reason.NON_HTML,
            http_status=response.status,
            detail=(response.headers.get("Content-Type") or b"").decode("latin-1") or None,
            failed_at=utcnow(),
        )

    def _page(self, response: Response) -> Iterator[Any]:
        if "cached" in response.flags:
            # Not modified since it was found not to be an article: only its links matter.
            self.crawler.stats.inc_value("discovery/cached_pages")
        else:
            self.crawler.stats.inc_value("discovery/html_pages")
            yield self._raw_page(response)
        yield from self._links(response)

    def _raw_page(self, response: Response) -> RawPage:
        headers = response.headers
        return RawPage(
            url=response.request.url if response.request else response.url,
            final_url=response.url,
            status=response.status,
            html=response.body,
            content_type=_header(headers, b"Content-Type"),
            etag=_header(headers, b"ETag"),
            last_modified=_header(headers, b"Last-Modified"),
            content_language=_header(headers, b"Content-Language"),
            fetched_at=utcnow(),
            source=response.meta.get("source"),
            warc_record=response.meta.get("warc_record"),
        )

    def _links(self, response: Response) -> Iterator[scrapy.Request]:
        depth = response.meta.get("link_depth", 0)
        site = self._site_of(response.meta)
        if depth >= (site.max_depth if site.max_depth is not None else self.max_depth):
            return
        requests = []
        # Each distinct link once, in page order; a link to a site not the crawl's own is not followed.
        offsite = 0
        for url in page_links(response.body, response.url, _header(response.headers, b"Content-Type")):
            if not self.reach.is_own(url):
                offsite += 1
            elif is_followable(url) and site.allows(url):
                request = self._request(url, source="link", depth=depth + 1, site=site.name)
                if request is not None:
                    requests.append(request)
        if offsite:
            self.crawler.stats.inc_value("discovery/offsite_links", offsite)
        self._commit()
        yield from requests

    def _xml(self, response: Response, body: bytes) -> Iterator[Any]:
        """A sitemap or feed: its URLs followed. One that does not parse cleanly (truncated,
        malformed, with entity declarations) is recorded (bad_sitemap, bad_feed, bad_xml) and the
        URLs that could be recovered are still followed. Entities are never expanded, and no DTD or
        external entity is fetched or read (no network, no file)."""
        parser = etree.XMLParser(
            recover=True, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        problems = []
        # No sitemap or feed needs a DTD: one is dropped before parsing, so that its entities (an
        # expansion bomb, a file or URL) are neither expanded nor fetched and stop nothing.
        body, doctypes = _DOCTYPE.subn(b"", body, count=1)
        if doctypes:
            problems.append("a DOCTYPE (ignored, its entities not expanded)")
        try:
            root = etree.fromstring(body, parser=parser)
        except etree.XMLSyntaxError:
            root = None
        problems += [e.message.strip() for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
        source = response.meta.get("source")
        claimed = (
            Reason.BAD_SITEMAP
            if source == "sitemap"
            else Reason.BAD_FEED
            if source == "feed"
            else Reason.BAD_XML
        )
        if root is None:
            self.crawler.stats.inc_value(
                "skipped/bad_xml" if claimed == Reason.BAD_XML else f"failed/{claimed}"
            )
            yield self._bad_xml(response, claimed, "; ".join(problems) or "not XML")
            return
        tag = etree.QName(root).localname.lower()
        requests: list[Any]
        if tag in ("urlset", "sitemapindex"):
            requests, reason = list(self._sitemap(response, body)), Reason.BAD_SITEMAP
        elif tag in ("rss", "feed", "rdf"):
            requests, reason = list(self._feed(response, root)), Reason.BAD_FEED
        elif claimed != Reason.BAD_XML:
            self.crawler.stats.inc_value(f"failed/{claimed}")
            yield self._bad_xml(response, claimed, f"root element <{tag}> is neither a sitemap nor a feed")
            return
        else:
            yield self._non_html(response)
            return
        if problems:
            self.crawler.stats.inc_value(f"failed/{reason}")
            yield self._bad_xml(response, reason, f"{len(requests)} URLs recovered; " + "; ".join(problems))
        yield from requests

    def _bad_xml(self, response: Response, reason: str, detail: str) -> FetchFailed:
        """A sitemap or feed that did not parse cleanly, recorded as failed."""
        self.logger.info("%s: %s (%s)", reason, response.url, detail[:200])
        return FetchFailed(
            url=response.request.url if response.request else response.url,
            reason=reason,
            http_status=response.status,
            detail=detail[:500],
            failed_at=utcnow(),
        )

    def _sitemap(self, response: Response, body: bytes) -> Iterator[Any]:
        sitemap = Sitemap(body)
        self.crawler.stats.inc_value("discovery/sitemaps")
        site = self._site_of(response.meta)
        requests = []
        for entry in sitemap:
            loc = entry.get("loc", "").strip()
            if not loc:  # an entry cut short, or an entity left unexpanded
                continue
            loc = response.urljoin(loc)
            if not valid_http_url(loc):
                continue
            if sitemap.type == "sitemapindex":
                request = self._request(
                    loc,
                    source="sitemap",
                    depth=0,
                    site=site.name,
                    is_page=False,
                    incremental=False,
                    cacheable=True,
                )
            elif site.allows(loc):
                request = self._request(
                    loc, source="sitemap", depth=1, site=site.name, lastmod=entry.get("lastmod")
                )
            else:
                continue
            if request is not None:
                requests.append(request)
        self._commit()
        yield from requests

    def _feed(self, response: Response, root: Any) -> Iterator[Any]:
        self.crawler.stats.inc_value("discovery/feeds")
        site = self._site_of(response.meta)
        requests = []
        for link, date in _feed_entries(root):
            url = response.urljoin(link)
            if valid_http_url(url) and site.allows(url):
                request = self._request(url, source="feed", depth=1, site=site.name, feed_date=date)
                if request is not None:
                    requests.append(request)
        self._commit()
        yield from requests

    def on_error(self, failure: Failure) -> Iterator[FetchFailed | NotModifiedPage]:
        request = failure.request  # type: ignore[attr-defined]
        skip = request.meta.get("incremental_skip")
        if skip and failure.check(scrapy.exceptions.IgnoreRequest):
            # Not fetched on purpose (the incremental middleware counted it), or a 304.
            if skip == "not_modified":
                validators = request.meta.get("not_modified_headers") or {}
                yield NotModifiedPage(
                    url=request.url,
                    checked_at=utcnow(),
                    etag=validators.get("etag"),
                    last_modified=validators.get("last_modified"),
                )
            return
        status = failure.value.response.status if failure.check(HttpError) else None
        # A request redirected before it failed is recorded under the URL that was asked for.
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        detail = f"{failure.type.__name__}: {failure.value}"
        if url != request.url:
            detail += f" (redirected to {request.url})"
        if failure.check(Refused):
            reason = failure.value.reason
            detail = failure.value.detail
            kind = "skipped" if reason in SKIP_REASONS else "failed"
            self.crawler.stats.inc_value(f"{kind}/{reason}")
            yield FetchFailed(url=url, reason=reason, detail=detail[:500], failed_at=utcnow())
            return
        reason = failure_reason(failure)
        self.crawler.stats.inc_value(f"failed/{reason}")
        yield FetchFailed(url=url, reason=reason, http_status=status, detail=detail[:500], failed_at=utcnow())


def failure_reason(failure: Failure) -> str:
    """The :mod:`crawler.reasons` reason of a failed request."""
    if failure.check(HttpError):
        return http_reason(failure.value.response.status)
    if failure.check(DNSLookupError, CannotResolveHostError):
        return Reason.DNS
    if failure.check(TimeoutError, TCPTimedOutError, DownloadTimeoutError):
        return Reason.TIMEOUT
    if failure.check(ConnectionRefusedError, DownloadConnectionRefusedError):
        return Reason.CONNECTION_REFUSED
    if failure.check(ResponseDataLossError, ResponseFailed, _DataLoss, PotentialDataLoss):
        return Reason.DATA_LOSS  # closed mid-body, or shorter than its Content-Length: never archived
    if failure.check(DownloadCancelledError) or (
        failure.check(scrapy.exceptions.IgnoreRequest) and "DOWNLOAD_MAXSIZE" in str(failure.value)
    ):
        return Reason.TOO_LARGE  # over DOWNLOAD_MAXSIZE as sent, or once decompressed
    if failure.check(zlib.error, gzip.BadGzipFile, EOFError, *_BROTLI_ERRORS):
        return Reason.BAD_ENCODING  # Content-Encoding says compressed, the body does not decompress
    if failure.check(scrapy.exceptions.IgnoreRequest):
        return Reason.ROBOTS if "robots" in str(failure.value).lower() else Reason.IGNORED
    # A failed TLS handshake or a lost connection comes wrapped: Scrapy's DownloadFailedError
    # raised from Twisted's ResponseNeverReceived, whose ``reasons`` are the failures inside.
    errors = _wrapped_errors(failure.value)
    if any(isinstance(e, SSL.Error) for e in errors):
        return Reason.TLS
    if any(isinstance(e, ConnectionLost | ConnectionDone | ConnectError) for e in errors):
        return Reason.CONNECTION
    return Reason.OTHER


def _wrapped_errors(error: BaseException) -> list[BaseException]:
    """``error``, the exceptions it was raised from, and the failures Twisted wrapped in them."""
    found: list[BaseException] = []
    todo: list[BaseException] = [error]
    while todo and len(found) < 20:
        e = todo.pop()
        found.append(e)
        todo.extend(f.value for f in getattr(e, "reasons", None) or [] if isinstance(f, Failure))
        if e.__cause__ is not None:
            todo.append(e.__cause__)
    return found


def _header(headers: Any, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None


def _feed_entries(root: Any) -> Iterator[tuple[str, str | None]]:
    """(link, date) pairs of an RSS 2.0, RSS 1.0 (RDF) or Atom feed."""
    for item in root.iter():
        if not isinstance(item.tag, str):
            continue
        name = etree.QName(item).localname
        if name == "item":
            link = date = None
            for child in item:
                if not isinstance(child.tag, str):
                    continue
                cname = etree.QName(child).localname
                if cname == "link" and child.text:
                    link = child.text.strip()
                elif cname in ("pubDate", "date", "updated") and child.text:
                    date = child.text.strip()
            if link:
                yield link, date
        elif name == "entry" and item.tag.startswith(_ATOM):
            link = date = None
            for child in item:
                if child.tag == f"{_ATOM}link" and child.get("rel", "alternate") == "alternate":
                    link = child.get("href")
                elif child.tag in (f"{_ATOM}updated", f"{_ATOM}published") and child.text and not date:
                    date = child.text.strip()
            if link:
                yield link.strip(), date
