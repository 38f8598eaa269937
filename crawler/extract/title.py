"""The title: the page's headline candidates (og:title, JSON-LD headline, <h1>, <title>) compared with
each other and with the site's name, site-name and section parts stripped; and every wording of the
headline the page carries, for the body rules that drop it."""

from __future__ import annotations

import re

from crawler.extract.metadata import PageMeta
from crawler.text import WORD_RUN_RE, clean_text, folded_words, normalise_line

__all__ = ["headline_variants", "pick_title"]

# A separator between a headline and a site name, section or kicker.
_SEP_CHARS = "|-–—:·•»«/｜：~"
_TITLE_SPLIT_RE = re.compile(r"\s+(?:[|\-–—:·•»«/~]|::)\s+|\s*[｜：]\s*|\s+\|\s*|\s*\|\s+")


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


def pick_title(meta: PageMeta, traf_title: str | None, site_name: str | None, host: str | None) -> str | None:
    """The headline: og:title, JSON-LD headline, <h1>, <title> in that order of trust, each freed of
    site-name parts found by comparing the candidates with each other and with the site's name."""
    raw = [
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
    site_names = [s for s in (site_name, meta.site_name) if s]
    if host:
        bare_host = host.removeprefix("www.")
        site_names += [bare_host, bare_host.rsplit(".", 1)[0], bare_host.split(".")[0]]
    reduced = []
    for c in cands:
        best = c
        for other in cands:
            r = _reduce_by(c, other)
            if r and len(r) < len(best):
                best = r
        reduced.append(_strip_site(best, site_names))
    return next((r for r in reduced if r), None)


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
