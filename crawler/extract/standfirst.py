"""The lede: the standfirst under the headline (an element after the <h1> with a dek/summary class or
the page's description) when the page has one, else the first paragraph of the body."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml.html import HtmlElement

from crawler.boilerplate import Block
from crawler.extract.metadata import PageMeta
from crawler.text import clean_text, folded_words, normalise_line, word_count

__all__ = ["find_standfirst", "similar", "split_lede"]


def similar(a: str, b: str) -> bool:
    """Same text up to case, punctuation and whitespace, or one a truncated ("…") start of the other."""
    na, nb = normalise_line(a), normalise_line(b)
    if not na or not nb:
        return False
    if na == nb:
        return True
    short, long_ = (na, nb) if len(na) < len(nb) else (nb, na)
    short = short.rstrip(".… ")
    return len(short) >= 40 and long_.startswith(short) and len(short) >= 0.6 * len(long_)


_STANDFIRST_CLASS_RE = re.compile(
    r"(?:^|[\s_-])(?:standfirst|dek|deck|lede|summary|sub-?title|subhead(?:line)?|sapo|chapo|chapeau|"
    r"excerpt|teaser-?text)(?:$|[\s_-])",
    re.IGNORECASE,
)
_STANDFIRST_TAGS = ("p", "div", "h2", "h3", "span", "strong", "b", "em")


def _following(el: HtmlElement, limit: int) -> Iterator[HtmlElement]:
    """Up to ``limit`` elements after ``el`` in document order, outside it (XPath's following::*),
    without building the whole axis."""
    count = 0
    node: HtmlElement | None = el
    while node is not None and count < limit:
        for sibling in node.itersiblings():
            for d in sibling.iter():
                yield d
                count += 1
                if count >= limit:
                    return
        node = node.getparent()


def find_standfirst(
    tree: HtmlElement, meta: PageMeta, title: str | None, first_block: str | None
) -> str | None:
    """The standfirst under the headline: an element after the <h1> and before the body that carries a
    dek/summary class or repeats the page's description."""
    h1s = list(tree.iter("h1"))
    if not h1s:
        return None
    h1 = h1s[0]
    nt = normalise_line(title) if title else ""
    if nt:
        h1 = next((h for h in h1s if normalise_line(h.text_content()) == nt), h1)
    descs = [
        normalise_line(clean_text(d))
        for d in (meta.ld_description, meta.og_description, meta.description)
        if d
    ]
    first = normalise_line(first_block) if first_block else None
    seen = 0
    for el in _following(h1, 120):
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if tag in ("nav", "header", "footer", "aside", "form", "script", "style", "ul", "ol", "figure"):
            continue
        if tag not in _STANDFIRST_TAGS:
            continue
        if next(el.iterdescendants("script", "style"), None) is not None:
            continue
        text = " ".join(clean_text(el.text_content()).split())
        if len(text) < 30:
            continue
        seen += 1
        norm = normalise_line(text)
        if nt and norm in nt:
            continue  # a part of the headline (its second line), not a standfirst
        if first and (first.startswith(norm) or norm.startswith(first)) and not any(d == norm for d in descs):
            return None  # reached the body (or its container) without meeting a standfirst
        if len(text) > 700 or tag != "p" and next(el.iterdescendants("p"), None) is not None:
            continue
        if next(el.iterancestors("a"), None) is not None or (
            next(el.iterdescendants("a"), None) is not None and _link_text_share(el) > 0.5
        ):
            continue
        if any(
            d
            and (d == norm or (len(d) > 60 and norm.startswith(d.rstrip(".… ")) and len(norm) < 1.5 * len(d)))
            for d in descs
        ):
            return text
        chained = _chain_to_description(el, norm, descs)
        if chained:
            return chained
        if any(_rewords(norm, d) for d in descs):
            return text
        cls = " ".join(filter(None, (el.get("class"), el.get("itemprop"), el.get("id"))))
        if cls and _STANDFIRST_CLASS_RE.search(cls):
            return text
        if seen >= 8:
            break
    return None


def _chain_to_description(el: HtmlElement, norm: str, descs: list[str]) -> str | None:
    """The standfirst split over ``el`` and the siblings after it ("Sentence one." "Sentence two."),
    when together they are the page's description; else None."""
    longer = [d for d in descs if len(d) > len(norm) + 20 and d.startswith(norm)]
    if not longer:
        return None
    parts = [" ".join(clean_text(el.text_content()).split())]
    for sib in el.itersiblings():
        if not isinstance(sib.tag, str) or sib.tag != el.tag:
            break
        parts.append(" ".join(clean_text(sib.text_content()).split()))
        acc = normalise_line(" ".join(parts))
        longer = [d for d in longer if d.startswith(acc)]
        if not longer:
            return None
        if any(len(acc) >= len(d) - 2 for d in longer):
            return " ".join(parts)
    return None


def _rewords(norm: str, desc: str) -> bool:
    """Whether ``norm`` rewords the description ``desc``: most words of each are in the other."""
    if len(desc) < 60:
        return False
    a, b = set(folded_words(norm)), set(folded_words(desc))
    if not a or not b:
        return False
    common = len(a & b)
    return common >= 0.6 * len(b) and common >= 0.5 * len(a)


def _link_text_share(el: HtmlElement) -> float:
    total = len(clean_text(el.text_content()))
    links = sum(len(clean_text(a.text_content())) for a in el.iter("a"))
    return links / total if total else 0.0


def split_lede(
    tree: HtmlElement, meta: PageMeta, title: str | None, blocks: list[Block]
) -> tuple[str | None, list[Block]]:
    """(the lede, the blocks of the body): the standfirst when the page has one (its copy and the page
    chrome before it taken out of the body), else the first block when it reads as a lede."""
    blocks = list(blocks)
    lede: str | None = None
    standfirst = find_standfirst(tree, meta, title, blocks[0].text if blocks else None)
    if standfirst:
        lede = standfirst
        for i, b in enumerate(blocks[:6]):
            if similar(b.text, standfirst):
                # What comes before the standfirst's copy in the body is page chrome (breadcrumbs,
                # share links): short lines go; a longer block stays.
                head = [x for x in blocks[:i] if i >= 3 and word_count(x.text) > 8]
                blocks[: i + 1] = head
                break
    if lede is None:
        descs = [clean_text(d) for d in (meta.ld_description, meta.og_description, meta.description) if d]
        if (
            blocks
            and any(similar(blocks[0].text, d) for d in descs)
            or blocks
            and blocks[0].kind in ("p", "quote")
            or blocks
            and word_count(blocks[0].text) >= 12
        ):
            lede = blocks.pop(0).text
    return lede, blocks
