"""Reasons recorded for pages that are not archived, added for the hostile-web work (issue 13).

Each is the ``reason`` of a ``fetch_failures`` row and a ``failed/<reason>`` or ``skipped/<reason>``
stats counter. They are kept here, in one place, until they join the project's single enum of
failure reasons; the reasons that existed before (``http_error``, ``non_html``...) are unchanged.
"""

from __future__ import annotations

__all__ = [
    "BAD_ENCODING",
    "BAD_FEED",
    "BAD_SCHEME",
    "BAD_SITEMAP",
    "BAD_XML",
    "DATA_LOSS",
    "EXTRACT_MEMORY",
    "OFFSITE",
    "OFFSITE_REDIRECT",
    "PRIVATE_ADDRESS",
    "REDIRECT_LOOP",
    "REFUSED_REASONS",
    "SKIP_REASONS",
    "TOO_LARGE",
    "TOO_MANY_REDIRECTS",
]

# Where the crawl may go (middlewares.ReachMiddleware, middlewares.GuardedRedirectMiddleware).
OFFSITE = "offsite"  # a request (sitemap or feed entry) for a host that is not one of the crawl's sites
OFFSITE_REDIRECT = "offsite_redirect"  # a redirect to such a host
PRIVATE_ADDRESS = "private_address"  # a host that resolves to a private, loopback, link-local... address
BAD_SCHEME = "bad_scheme"  # a redirect to a scheme other than http(s)
REDIRECT_LOOP = "redirect_loop"  # a redirect back to a URL of the same chain
TOO_MANY_REDIRECTS = "too_many_redirects"  # more than REDIRECT_MAX_TIMES redirects

# Responses that are not archived.
BAD_SITEMAP = "bad_sitemap"  # a sitemap that did not parse cleanly (truncated, entities...)
BAD_FEED = "bad_feed"  # the same for an RSS/Atom feed
BAD_XML = "bad_xml"  # XML (by its type) that is neither: not XML at all, or an unknown root
TOO_LARGE = "too_large"  # above DOWNLOAD_MAXSIZE, compressed or once decompressed
BAD_ENCODING = "bad_encoding"  # a compressed body (gzip, deflate, brotli) that does not decompress
DATA_LOSS = "data_loss"  # connection closed mid-body or Content-Length mismatch: never a partial page

# Extraction (crawler.pool).
EXTRACT_MEMORY = "extract_memory"  # the worker went over CRAWLER_EXTRACT_MAX_MEMORY

# Reasons that mean "not fetched, or not archived, on purpose" (``crawler check`` says skipped,
# crawl_runs counts them under skipped); the others are failures.
REFUSED_REASONS = frozenset({OFFSITE, OFFSITE_REDIRECT, PRIVATE_ADDRESS, BAD_SCHEME})
SKIP_REASONS = frozenset({*REFUSED_REASONS, TOO_LARGE})
