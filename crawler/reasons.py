"""Why a page was not archived: one vocabulary for the spider, the pipelines, the run records,
``crawler check`` and ``crawler stats``.

Skipped pages were fetched but are not articles; failed ones could not be fetched or extracted.
An HTTP error is ``http_<status>`` (``http_404``, ``http_503``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SKIP_REASONS", "Reason", "http_reason"]


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
    # Fetched, extraction failed.
    EXTRACT_TIMEOUT = "extract_timeout"
    EXTRACT_ERROR = "extract_error"


SKIP_REASONS = frozenset({Reason.NOT_ARTICLE, Reason.EMPTY_BODY, Reason.DUPLICATE, Reason.NON_HTML})


def http_reason(status: int) -> str:
    """The reason of an HTTP error answer: ``http_404``."""
    return f"http_{status}"
