"""What extraction is asked to do (:class:`ExtractOptions`) and the version of its output."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_OPTIONS", "EXTRACTOR_VERSION", "ExtractOptions"]

# Bump whenever the output for the same input changes; stored with each row for re-extraction.
EXTRACTOR_VERSION = "21"


@dataclass(frozen=True)
class ExtractOptions:
    """How to extract; the defaults suit news article pages."""

    extra_boilerplate_lines: frozenset[str] = frozenset()
    extra_boilerplate_prefixes: tuple[str, ...] = ()
    # Lines learned as boilerplate of the page's site (see archive.boilerplate).
    site_boilerplate: frozenset[str] = frozenset()
    # Fewer clean-text characters than this and the page is not an article.
    min_body_chars: int = 100
    include_tables: bool = True
    # A block whose text is at least this share of link text is dropped.
    link_ratio: float = 0.75
    detect_lang: bool = True


DEFAULT_OPTIONS = ExtractOptions()
