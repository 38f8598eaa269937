"""Why a page was not archived: one vocabulary for the spider, the pipelines, the run records,
``crawler check`` and ``crawler stats``.

Skipped pages were fetched but are not articles; failed ones could not be fetched or extracted.
An HTTP error is ``http_<status>`` (``http_404``, ``http_503``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["REFUSED_REASONS", "SKIP_REASONS", "Reason", "http_reason"]


class Reason(StrEnum):
    """A reason recorded in ``fetch_failures.reason`` and counted in ``crawl_runs``."""

    # Fetched, not archived.
    NOT_ARTICLE = "not_article"  # extraction found no article (home, section, static page)
    EMPTY_BODY = "empty_body"  # an article shorter than CRAWLER_MIN_WORDS
    DUPLICATE = "duplicate"  # the same clean text is archived under another URL
    NON_HTML = "non_html"  # a PDF, an image...
    # Not fetched.
    ROBOTS = "robots"  # disallowed by robots.txt
    IGNORED = "ignored"  # dropped by a downloader middleware
    DNS = "dns"  # the host name does not resolve
    TIMEOUT = "timeout"  # no answer in DOWNLOAD_TIMEOUT
    CONNECTION_REFUSED = "connection_refused"  # nothing listens on the port
    CONNECTION = "connection"  # the connection was lost or closed before an answer
    TLS = "tls"  # the TLS handshake failed (certificate, protocol)
    OTHER = "other"
    # Not fetched: where the crawl may not go (middlewares.ReachMiddleware, GuardedRedirectMiddleware).
    OFFSITE = "offsite"  # a request (sitemap or feed entry) for a host that is not one of the crawl's sites
    OFFSITE_REDIRECT = "offsite_redirect"  # a redirect to such a host
    PRIVATE_ADDRESS = "private_address"  # a host that resolves to a private, loopback, link-local... address
    BAD_SCHEME = "bad_scheme"  # a redirect to a scheme other than http(s)
    REDIRECT_LOOP = "redirect_loop"  # a redirect back to a URL of the same chain
    TOO_MANY_REDIRECTS = "too_many_redirects"  # more than REDIRECT_MAX_TIMES redirects
    # Fetched, not archived: the response itself is unusable.
    BAD_SITEMAP = "bad_sitemap"  # a sitemap that did not parse cleanly (truncated, entities...)
    BAD_FEED = "bad_feed"  # the same for an RSS/Atom feed
    BAD_XML = "bad_xml"  # XML (by its type) that is neither: not XML at all, or an unknown root
    TOO_LARGE = "too_large"  # above DOWNLOAD_MAXSIZE, compressed or once decompressed
    BAD_ENCODING = "bad_encoding"  # a compressed body (gzip, deflate, brotli) that does not decompress
    DATA_LOSS = "data_loss"  # connection closed mid-body or Content-Length mismatch: never a partial page
    # Fetched, extraction failed.
    EXTRACT_TIMEOUT = "extract_timeout"
    EXTRACT_ERROR = "extract_error"
    EXTRACT_MEMORY = "extract_memory"  # the worker went over CRAWLER_EXTRACT_MAX_MEMORY
    # Read from a WARC file (crawler ingest), not archived: records that are not pages.
    WARC_REQUEST = "request"  # a request record
    WARC_METADATA = "metadata"  # a metadata record
    WARC_INFO = "warcinfo"  # the warcinfo record describing a file
    REVISIT = "revisit"  # a revisit record without a payload (the page is elsewhere)
    OTHER_RECORD = "other_record"  # a resource, conversion or continuation record
    TRUNCATED = "truncated"  # a record marked WARC-Truncated: never a partial page
    FILTERED = "filtered"  # left out by the ingest's --site, --lang, --since or --until
    # Read from a WARC file, unusable: a record that does not parse, a file cut in the middle of one.
    CORRUPT_RECORD = "corrupt_record"


# Not fetched, or not archived, on purpose: the crawl refused to go there.
REFUSED_REASONS = frozenset(
    {Reason.OFFSITE, Reason.OFFSITE_REDIRECT, Reason.PRIVATE_ADDRESS, Reason.BAD_SCHEME}
)
# Reasons that ``crawler check`` calls skipped and crawl_runs counts under skipped; the others are failures.
SKIP_REASONS = frozenset(
    {
        Reason.NOT_ARTICLE,
        Reason.EMPTY_BODY,
        Reason.DUPLICATE,
        Reason.NON_HTML,
        Reason.TOO_LARGE,
        *REFUSED_REASONS,
        Reason.WARC_REQUEST,
        Reason.WARC_METADATA,
        Reason.WARC_INFO,
        Reason.REVISIT,
        Reason.OTHER_RECORD,
        Reason.TRUNCATED,
        Reason.FILTERED,
    }
)


def http_reason(status: int) -> str:
    """The reason of an HTTP error answer: ``http_404``."""
    return f"http_{status}"
