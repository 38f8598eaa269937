"""Article extraction: raw HTML in, a clean :class:`~crawler.items.Article` (or None) out.

trafilatura finds the main content; a rule-based pass (:mod:`crawler.boilerplate`) drops the
boilerplate lines it leaves in; the title comes from the page's headline candidates with site-name
parts stripped; the lede is the standfirst when the page has one, else the first paragraph; the
language is tagged by :mod:`crawler.lang`.

``extract`` is a pure function (no I/O, no global state besides loaded detector models), importable
without Scrapy, and never raises on bad input.

The package is split by stage, in the order :func:`~crawler.extract.core.extract` runs them:

* :mod:`~crawler.extract.decode`: bytes to text (charset), text to the lxml tree;
* :mod:`~crawler.extract.metadata`: <meta>, <h1>, JSON-LD: dates, authors, site name, languages;
* :mod:`~crawler.extract.blocks`: trafilatura's output as blocks, cleaned by :mod:`crawler.boilerplate`;
* :mod:`~crawler.extract.rules`: block rules that need the page (teaser cards, articleBody, the
  headline, author and company notes);
* :mod:`~crawler.extract.title`: the headline, site names stripped;
* :mod:`~crawler.extract.standfirst`: the lede;
* :mod:`~crawler.extract.page_kind`: article or not;
* :mod:`~crawler.extract.learning`: what per-site boilerplate learning counts;
* :mod:`~crawler.extract.core`: the orchestration; :mod:`~crawler.extract.options`: its options.

Words, word counts and clean text are :mod:`crawler.text`'s.
"""

from __future__ import annotations

import logging

# _load_html: the name under which tests import this stage.
from crawler.extract.core import explain, extract
from crawler.extract.decode import decode_html
from crawler.extract.decode import parse_html as _load_html  # noqa: F401
from crawler.extract.learning import SITE_LINES_REMOVED, lines_for_learning
from crawler.extract.options import DEFAULT_OPTIONS, EXTRACTOR_VERSION, ExtractOptions
from crawler.extract.page_kind import Rejected, Rejection
from crawler.text import clean_text, word_count

__all__ = [
    "DEFAULT_OPTIONS",
    "EXTRACTOR_VERSION",
    "SITE_LINES_REMOVED",
    "ExtractOptions",
    "Rejected",
    "Rejection",
    "clean_text",
    "decode_html",
    "explain",
    "extract",
    "lines_for_learning",
    "word_count",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
