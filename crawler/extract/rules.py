"""Block rules that need the page, not only the line: blocks that are the text of teaser cards,
agreement with JSON-LD ``articleBody``, the headline repeated in the body, the author's note and
the "about the company" note at the end.

Each takes the blocks and returns those that stay, in order and unchanged.
"""

from __future__ import annotations

import functools
import re

from lxml import etree
from lxml.html import HtmlElement

from crawler.boilerplate import Block
from crawler.text import clean_text, folded_words, normalise_line, word_count

__all__ = [
    "AUTHOR_NOTE_MAX_BLOCKS",
    "AUTHOR_NOTE_MAX_WORDS",
    "agree_with_article_body",
    "card_texts",
    "drop_author_notes",
    "drop_card_teasers",
    "drop_company_notes",
    "drop_headlines",
    "in_cards",
    "teaser_list_texts",
    "teasers",
    "text_share",
]

# A link whose text is this long is a teaser card (headline, summary, byline wrapped in one <a>).
_CARD_MIN_CHARS = 80
# Extracted blocks shorter than this are never matched against cards (too common to tell).
_CARD_BLOCK_MIN_CHARS = 15


def card_texts(tree: HtmlElement) -> list[str]:
    """Normalised texts of the page's teaser cards: links that wrap a whole block of text.

    trafilatura unwraps such links, so their text reaches the output as plain paragraphs; an extracted
    block that lies entirely inside one of them is a teaser of another article.
    """
    cards = []
    for a in _CARD_LINKS(tree):
        norm = normalise_line(a.text_content())
        if len(norm) >= _CARD_MIN_CHARS:
            cards.append(norm)
    return cards


# Links with child elements (one without is an inline link, which trafilatura keeps as a link) and
# at least _CARD_MIN_CHARS characters of text (string-length counts characters, as len() does).
_CARD_LINKS = etree.XPath(f"//a[* and string-length(.) >= {_CARD_MIN_CHARS}]")


_HEADLINE_LINK = etree.XPath("//a[string-length(normalize-space(.)) >= 20]")
# A teaser: a headline link plus a short summary, at most this long.
_TEASER_MAX_CHARS = 600


def _stands_alone(a: HtmlElement) -> bool:
    """Whether link ``a`` is a block of its own (a headline), not words running on into a sentence:
    no text follows it, or the element that holds only it, before the next element."""
    node: HtmlElement | None = a
    text = a.text_content()
    while node is not None:
        if (node.tail or "").strip():
            return False
        parent = node.getparent()
        if parent is None or parent.text_content().strip() != text.strip():
            return True
        node = parent
    return True


def teasers(tree: HtmlElement) -> dict[HtmlElement, list[str]]:
    """Normalised texts of the page's teasers, by the element that holds them: elements that each
    hold one headline link, opening the element's text, followed by a short summary."""
    anchors = _HEADLINE_LINK(tree)
    # How many of the anchors each ancestor holds: 1, or 2 standing for "two or more". An element
    # holding two holds them in all its ancestors too, so a walk up stops at the first such.
    counts: dict[HtmlElement, int] = {}
    for a in anchors:
        for anc in a.iterancestors():
            n = counts.get(anc, 0)
            if n >= 2:
                break
            counts[anc] = n + 1
    by_parent: dict[HtmlElement, list[str]] = {}
    for a in anchors:
        link = normalise_line(a.text_content())
        # The teaser is the largest element around the link that holds no other headline link and
        # opens with the link (a section heading above it belongs to the section, not the teaser).
        card, text = a, link
        parent = a.getparent()
        while parent is not None and counts.get(parent, 0) == 1:
            parent_text = normalise_line(parent.text_content())
            if not parent_text.startswith(link) or len(parent_text) > _TEASER_MAX_CHARS:
                break
            card, text, parent = parent, parent_text, parent.getparent()
        if card is a or parent is None:
            continue
        if len(text) >= len(link) + 20 and _stands_alone(a):
            by_parent.setdefault(parent, []).append(text)
    return by_parent


def teaser_list_texts(teasers: dict[HtmlElement, list[str]]) -> list[str]:
    """The ``teasers`` that stand in lists ("Related stories" boxes, section pages): two or more
    under one element, or three or more on the page."""
    if sum(len(texts) for texts in teasers.values()) >= 3:
        return [t for texts in teasers.values() for t in texts]
    return [t for texts in teasers.values() if len(texts) >= 2 for t in texts]


def in_cards(blocks: list[Block], cards: list[str]) -> list[bool]:
    """For each block, whether its text lies entirely inside one of the ``cards`` texts."""
    # Compared without spaces: text_content() runs block elements together ("Headline" + "Summary"
    # gives "HeadlineSummary") where trafilatura puts a space or a line break.
    squeezed = [c.replace(" ", "") for c in cards]
    out = []
    for b in blocks:
        inside = False
        if squeezed and len(b.text) >= _CARD_BLOCK_MIN_CHARS:
            norm = normalise_line(b.text).replace(" ", "")
            inside = any(norm in c for c in squeezed)
        out.append(inside)
    return out


def text_share(blocks: list[Block], mask: list[bool]) -> float:
    """The share of the ``blocks``' characters in the blocks that ``mask`` marks."""
    total = sum(len(b.text) for b in blocks)
    return sum(len(b.text) for b, m in zip(blocks, mask, strict=True) if m) / total if total else 0.0


def drop_card_teasers(blocks: list[Block], teasers: list[bool]) -> list[Block]:
    """Blocks without those that are the text of a teaser (``teasers``, from :func:`in_cards`);
    unchanged when that would remove most of the text (a page that wraps its article in a link)."""
    if not any(teasers) or text_share(blocks, teasers) > 0.5:
        return blocks
    return [b for b, t in zip(blocks, teasers, strict=True) if not t]


def _is_headline(text: str, headlines: list[list[str]]) -> bool:
    """A line that is one of the headlines, perhaps with a kicker or site name around it."""
    toks = folded_words(text)
    if not toks:
        return False
    for h in headlines:
        if toks == h:
            return True
        # The headline preceded or followed by a few words (kicker, section, "| Site").
        if len(h) >= 2 and len(toks) > len(h) and len(toks) - len(h) <= 6:
            for start in range(len(toks) - len(h) + 1):
                if toks[start : start + len(h)] == h:
                    return True
    return False


def _shingles(tokens: list[str], n: int = 4) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def agree_with_article_body(blocks: list[Block], article_body: str) -> list[Block]:
    """Use the JSON-LD ``articleBody`` as a second opinion on the extracted blocks.

    Only a full text counts (not a teaser): it must cover most of what was extracted. Then blocks
    that share nothing with it are page furniture and go; where it holds much more text than was
    extracted, the extraction was truncated and articleBody's own paragraphs replace it.
    """
    ld_tokens = folded_words(article_body)
    if len(ld_tokens) < 80 or not blocks:
        return blocks
    ld_sh = _shingles(ld_tokens)
    block_tokens = [folded_words(b.text) for b in blocks]
    ours = set().union(*(_shingles(t) for t in block_tokens))
    if not ours:
        return blocks
    covered = len(ours & ld_sh) / len(ours)
    if covered < 0.6:
        return blocks
    if covered >= 0.8 and len(ld_sh - ours) > 0.3 * len(ld_sh):
        paragraphs = [clean_text(p) for p in re.split(r"\n\s*\n|\n", article_body) if clean_text(p)]
        if len(paragraphs) >= 2:
            return [Block(p) for p in paragraphs]
    ld_joined = " " + " ".join(ld_tokens) + " "
    agrees = []
    for toks in block_tokens:
        sh = _shingles(toks)
        agrees.append(len(sh & ld_sh) >= 0.3 * len(sh) if sh else " " + " ".join(toks) + " " in ld_joined)
    if True not in agrees:
        return blocks
    first = agrees.index(True)
    kept = list(blocks[:first])  # headline zone: standfirst, summary, which articleBody often lacks
    for i in range(first, len(blocks)):
        if agrees[i]:
            kept.append(blocks[i])
        elif blocks[i].kind == "head":
            # A subheading stays when the text under it is article text.
            nxt = next((j for j in range(i + 1, len(blocks)) if blocks[j].kind != "head"), None)
            if nxt is not None and agrees[nxt]:
                kept.append(blocks[i])
    return kept


def drop_headlines(blocks: list[Block], headlines: list[list[str]]) -> list[Block]:
    """Blocks without the headline (any wording, near the top) and the kicker line right above it."""
    drop: set[int] = set()
    for i, b in enumerate(blocks[:8]):
        if _is_headline(b.text, headlines):
            drop.add(i)
            if i > 0 and i - 1 not in drop:
                above = blocks[i - 1].text
                if (
                    len(folded_words(above)) <= 4
                    and above[-1:] not in '.!?:"”»'
                    and blocks[i - 1].kind != "item"
                ):
                    drop.add(i - 1)  # a kicker ("MIDDLE EAST CRISIS") heading the headline
    return [b for i, b in enumerate(blocks) if i not in drop]


_NAME_SPLIT_RE = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b)\s*")
_NAME_WORD_RE = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:[-'’][^\W\d_]+)*\.?$")
# An author note runs to at most this many blocks of at most this many words each.
AUTHOR_NOTE_MAX_BLOCKS = 3
AUTHOR_NOTE_MAX_WORDS = 80


def _personal_names(author: str) -> list[list[str]]:
    """The author field's personal names as word lists ("Jane Doe, John Roe" -> [[Jane, Doe], ...]);
    organisations (one word, all capitals) are left out."""
    names = []
    for part in _NAME_SPLIT_RE.split(author):
        words = part.split()
        if not 2 <= len(words) <= 4 or not all(_NAME_WORD_RE.match(w) for w in words):
            continue
        caps = [w for w in words if w[:1].isupper()]
        if len(caps) >= 2 and not any(w.isupper() and len(w) > 2 for w in caps):
            names.append(words)
    return names


def drop_author_notes(blocks: list[Block], author: str) -> list[Block]:
    """Blocks without the author note at the end: a short final run of blocks that name the article's
    author (a bio, "Email Jane Doe at ...", a credit line of names), at least one with the full name."""
    names = _personal_names(author)
    if not names or len(blocks) < 2:
        return blocks
    full = [re.compile(r"\b" + r"\s+".join(map(re.escape, n)) + r"\b") for n in names]
    parts = [re.compile(r"\b" + re.escape(w) + r"\b") for n in names for w in (n[0], n[-1]) if len(w) >= 3]
    start = len(blocks)
    has_full = False
    for i in range(len(blocks) - 1, max(-1, len(blocks) - 1 - AUTHOR_NOTE_MAX_BLOCKS), -1):
        text = blocks[i].text
        if word_count(text) > AUTHOR_NOTE_MAX_WORDS or not any(p.search(text) for p in parts):
            break
        has_full = has_full or any(f.search(text) for f in full)
        start = i
    if not has_full or start == 0:
        return blocks
    # A note is a footnote to the article: never as long as the text it would leave (an author
    # field holding the publication's name matches the article's own mentions of it).
    note_words = sum(word_count(b.text) for b in blocks[start:])
    if note_words >= sum(word_count(b.text) for b in blocks[:start]):
        return blocks
    return blocks[:start]


_COMPANY_VERB_RE = r"(?:is (?:a|an|the|one of)|is headquartered|is based|was founded|was established|, founded in|, a leading)"


def drop_company_notes(blocks: list[Block], site_names: list[str], host: str | None) -> list[Block]:
    """Blocks without the "about the company" note that ends press releases: a short final run of
    blocks that open with the site's name, the first saying what the company is ("Acme is a ...")."""
    names = {normalise_line(n) for n in site_names if n}
    if host:
        label = host.removeprefix("www.").split(".")[0]
        if len(label) >= 3:
            names.add(label)
    names = {n for n in names if n}
    if not names or len(blocks) < 3:
        return blocks
    alt = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    opens = _company_opens_re(alt)
    start = len(blocks)
    for i in range(len(blocks) - 1, max(-1, len(blocks) - 1 - AUTHOR_NOTE_MAX_BLOCKS), -1):
        text = blocks[i].text
        if not opens.match(text) or word_count(text) > 2 * AUTHOR_NOTE_MAX_WORDS:
            break
        start = i
    if start == len(blocks):
        return blocks  # the text does not end with blocks opening with the name (most pages)
    intro = _company_intro_re(alt)
    for i in range(start, len(blocks)):
        if intro.match(blocks[i].text):
            return blocks[:start] if start > 0 else blocks
    return blocks


# Compiled once per site: the names are the same on all its pages.
@functools.lru_cache(maxsize=256)
def _company_opens_re(alt: str) -> re.Pattern[str]:
    return re.compile(rf"^(?:about )?(?:{alt})\b", re.IGNORECASE)


@functools.lru_cache(maxsize=256)
def _company_intro_re(alt: str) -> re.Pattern[str]:
    return re.compile(rf"^(?:{alt})\b.{{0,40}}?\s*{_COMPANY_VERB_RE}\b", re.IGNORECASE)
