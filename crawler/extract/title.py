"""The title: the page's headline candidates (og:title, JSON-LD headline, <h1>, <title>) compared with
each other and with the site's name, site-name and section parts stripped; and every wording of the
headline the page carries, for the body rules that drop it."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from crawler.extract.metadata import PageMeta
from crawler.text import WORD_RUN_RE, clean_text, folded_words, normalise_line

__all__ = ["headline_variants", "pick_title"]

# A separator between a headline and a site name, section or kicker.
_SEP_CHARS = "|-–—:·•»«›>/｜：~"
_TITLE_SPLIT_RE = re.compile(r"\s+(?:[|\-–—:·•»«›>/~]|::)\s+|\s*[｜：]\s*|\s*\|\s*")


_LINE_BREAKS_RE = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")


def _title_parts(title: str) -> list[str]:
    return [p for p in _TITLE_SPLIT_RE.split(title) if p.strip()]


def _strip_site(title: str, site_names: list[str]) -> str:
    """``title`` without leading/trailing parts that name the site."""
    parts = _title_parts(title)
    if len(parts) < 2:
        return title
    sites = {normalise_line(s) for s in site_names if s}
    site_tokens = {t for s in sites for t in WORD_RUN_RE.findall(s)}

    def is_site(part: str) -> bool:
        norm = normalise_line(part)
        if norm in sites or any(len(s) >= 4 and (s in norm or norm in s) for s in sites):
            return True
        tokens = WORD_RUN_RE.findall(norm)
        return bool(tokens) and all(t in site_tokens for t in tokens)

    n = len(parts)
    while len(parts) > 1 and is_site(parts[-1]):
        parts.pop()
    while len(parts) > 1 and is_site(parts[0]):
        parts.pop(0)
    if len(parts) == n:
        return title
    # Cut the original text so that separators inside the headline survive.
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip() if start >= 0 and end > start else title


def _reduce_by(cand: str, other: str) -> str | None:
    """``other`` when ``cand`` is ``other`` plus a separated prefix/suffix (site name, section)."""
    if len(other) < 8 or len(other) >= len(cand):
        return None
    if cand.startswith(other):
        rest = cand[len(other) :].lstrip()
        if rest and rest[0] in _SEP_CHARS + "[(" and len(rest) < len(cand) * 0.7:
            return other
    if cand.endswith(other):
        rest = cand[: -len(other)].rstrip()
        # A prefix before a colon is a kicker that belongs to the headline; other separators
        # introduce a site or section name.
        if rest and rest[-1] in _SEP_CHARS and rest[-1] not in ":：" and len(rest) < len(cand) * 0.5:
            return other
    return None


# Elements that may show the headline on a page without headline metadata; an element with more
# child elements than this is a container, not a headline.
_SHOWN_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "b", "strong", "span", "div", "td", "p", "font", "a", "em")
_SHOWN_MAX_CHILDREN = 3
_SHOWN_MAX_CHARS = 400


def _title_runs(title: str) -> list[str]:
    """Every run of consecutive separated parts of ``title``, as written (a headline may hold a
    separator of its own: "Preview - Seattle at Green Bay - NFL News - WJAC")."""
    spans = []
    pos = 0
    for part in _title_parts(title):
        start = title.find(part, pos)
        if start < 0:
            return [title]
        spans.append((start, start + len(part)))
        pos = start + len(part)
    return [title[a:b] for i, (a, _) in enumerate(spans) for (_, b) in spans[i:]] or [title]


def _shown_title_part(tree: HtmlElement, title_tag: str, site_names: list[str]) -> str | None:
    """On a page without headline metadata: the longest part of its ``<title>`` that the page also
    shows as the whole text of an element (in the page's own characters), site names aside. Older
    pages often give the headline no ``<h1>`` (or give the section's name one), but their
    ``<title>`` names it and their text shows it."""
    parts = [p for p in _title_runs(title_tag) if len(WORD_RUN_RE.findall(p)) >= 2]
    if not parts:
        return None
    sites = {normalise_line(s) for s in site_names if s}
    wanted = {normalise_line(p) for p in parts} - sites - {""}
    best: str | None = None
    body = tree.find("body")
    for el in (body if body is not None else tree).iter(_SHOWN_TAGS):
        if len(el) > _SHOWN_MAX_CHILDREN:
            continue
        text = clean_text(el.text_content())
        if not text or len(text) > _SHOWN_MAX_CHARS:
            continue
        if normalise_line(text) in wanted and (best is None or len(text) > len(best)):
            best = text
    return best


def _site_names(meta: PageMeta, site_name: str | None, host: str | None) -> list[str]:
    names = [s for s in (site_name, meta.site_name) if s]
    if host:
        bare_host = host.removeprefix("www.")
        names += [bare_host, bare_host.rsplit(".", 1)[0], bare_host.split(".")[0]]
    return names


def pick_title(
    meta: PageMeta,
    traf_title: str | None,
    site_name: str | None,
    host: str | None,
    tree: HtmlElement | None = None,
) -> str | None:
    """The headline: og:title, JSON-LD headline, <h1>, <title> in that order of trust, each freed of
    site-name parts found by comparing the candidates with each other and with the site's name.

    A page with none of the headline metadata (og:title, JSON-LD, twitter:title) gets the part of
    its ``<title>`` that its text shows (:func:`_shown_title_part`), where there is one.
    """
    shown = None
    if tree is not None and meta.title_tag and not (meta.og_title or meta.ld_headline or meta.twitter_title):
        shown = _shown_title_part(tree, clean_text(meta.title_tag), _site_names(meta, site_name, host))
    raw = [
        shown,
        meta.og_title,
        meta.ld_headline,
        meta.twitter_title,
        meta.h1[0] if meta.h1 else None,
        meta.title_tag,
        traf_title,
    ]
    cands = [clean_text(t) for t in raw if t]
    cands = [c for c in cands if c]
    if not cands:
        return None
    site_names = _site_names(meta, site_name, host)
    reduced = []
    for c in cands:
        best = c
        for other in cands:
            r = _reduce_by(c, other)
            if r and len(r) < len(best):
                best = r
        reduced.append(_strip_site(best, site_names))
    title = next((r for r in reduced if r), None)
    # One line: a <title> broken over lines keeps its words, not its line breaks.
    return _LINE_BREAKS_RE.sub(" ", title) if title else None


def headline_variants(meta: PageMeta, title: str | None) -> list[list[str]]:
    """Token lists of every headline wording the page carries."""
    raw = [title, meta.og_title, meta.ld_headline, meta.twitter_title, *meta.h1[:2]]
    variants = []
    for t in raw:
        if t:
            toks = folded_words(clean_text(t))
            if toks and toks not in variants:
                variants.append(toks)
    return variants
