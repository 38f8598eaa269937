"""Article extraction: raw HTML in, a clean :class:`~crawler.items.Article` (or None) out.

trafilatura finds the main content; a rule-based pass (:mod:`crawler.boilerplate`) drops the
boilerplate lines it leaves in; the title comes from the page's headline candidates with site-name
parts stripped; the lede is the standfirst when the page has one, else the first paragraph; the
language is tagged by :mod:`crawler.lang`.

``extract`` is a pure function (no I/O, no global state besides loaded detector models), importable
without Scrapy, and never raises on bad input.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import Any

import trafilatura
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HTMLParser, HtmlProcessingInstruction, fromstring
from trafilatura.settings import Extractor
from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, fromstring_bytes, load_html
from trafilatura.xml import xmltotxt
from w3lib.encoding import html_to_unicode

from crawler.boilerplate import Block, CharRemover, clean_blocks, is_site_line, normalise_line, site_lines_of
from crawler.items import Article
from crawler.lang import detect_language, normalise_lang

__all__ = [
    "EXTRACTOR_VERSION",
    "ExtractOptions",
    "decode_html",
    "extract",
    "lines_for_learning",
    "word_count",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

# Bump whenever the output for the same input changes; stored with each row for re-extraction.
EXTRACTOR_VERSION = "17"


def _mark_ranges() -> str:
    """Character-class ranges of the combining marks (Mn, Mc, Me) of the Basic Multilingual Plane."""
    ranges: list[tuple[int, int]] = []
    for cp in range(0x300, 0x10000):
        if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(f"\\u{a:04x}-\\u{b:04x}" if a != b else f"\\u{a:04x}" for a, b in ranges)


# A word is a run of \w characters and the combining marks (Devanagari vowel signs...) inside it.
_WORD_RE = re.compile(rf"\w[\w{_mark_ranges()}]*", re.UNICODE)
# Soft hyphens, zero-width spaces, word joiners, BOMs and direction marks carry no text. Zero-width
# (non-)joiners stay: Persian and Indic scripts spell words with them.
_remove_invisible = CharRemover("\u00ad\u200b\u2060\ufeff\u200e\u200f")
# Runs of spaces and tabs, no-break and other spaces, become one space: matched are only the runs
# that change (two or more characters, or one that is not a plain space), much the cheaper.
_SPACE_CHARS = "\t\u00a0\u2000-\u200a\u202f\u205f"
_SPACES_RE = re.compile(f"[ {_SPACE_CHARS}]{{2,}}|[{_SPACE_CHARS}]")


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


# Chinese and Japanese are written without spaces: each ideograph or kana counts as a word, as
# word processors count them; otherwise a whole sentence would be one "word".
_CJK_CHAR = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK_CHAR}]")


def word_count(text: str | None) -> int:
    """Number of words in ``text``: Unicode ``\\w+`` runs (combining marks included), with each
    Chinese/Japanese character counted as a word."""
    if not text:
        return 0
    cjk = len(_CJK_RE.findall(text))
    if not cjk:
        return len(_WORD_RE.findall(text))
    return cjk + len(_WORD_RE.findall(_CJK_RE.sub(" ", text)))


def clean_text(text: str) -> str:
    """No soft hyphens or zero-width spaces, single spaces, stripped.

    The page's Unicode normalisation form is kept (an NFD page stays NFD): the text is the page's.
    """
    return _SPACES_RE.sub(" ", _remove_invisible(text)).strip()


def _sniff_encoding(body: bytes) -> str | None:
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
    except (ImportError, ValueError, LookupError):  # no sniffer or no verdict: the default applies
        return None
    return best.encoding if best else None


def decode_html(html: str | bytes, content_type: str | None = None) -> str:
    """Text of the page: bytes decoded by BOM, HTTP/meta charset, else sniffed.

    A page declared as a single-byte charset whose bytes are valid UTF-8 with non-ASCII characters is
    UTF-8 mislabelled (a real Latin-1 page almost never forms valid multi-byte sequences).
    """
    if isinstance(html, str):
        return html
    encoding, text = html_to_unicode(content_type, html, auto_detect_fun=_sniff_encoding)
    if encoding.replace("-", "").lower() not in ("utf8", "utf16", "utf32") and not html.isascii():
        try:
            return html.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return text


# The control characters XML forbids (trafilatura.utils.INVALID_XML_CHARS, less U+FFFE/U+FFFF): in
# UTF-8 each is one byte that no other character's encoding contains.
_XML_INVALID_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def _has_xml_invalid_chars(text: str) -> bool:
    """Whether ``text`` holds a character trafilatura strips before parsing, found at C speed."""
    if "\ufffe" in text or "\uffff" in text:
        return True
    data = text.encode("utf-8", "surrogatepass")
    return len(data.translate(None, _XML_INVALID_BYTES)) != len(data)


# trafilatura's parser (trafilatura.utils.HTML_PARSER), its elements all plain HtmlElement: lxml.html's
# own lookup, which gives <form>, <input>... their classes of form helpers (of use to neither
# trafilatura nor us), is Python code run for every element that Python touches, a few thousand per
# page in trafilatura and here; this one runs in C.
_PARSER = HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )
)


def _load_html(text: str) -> HtmlElement | None:
    """The page's tree, as ``trafilatura.utils.load_html(text)`` builds it (the same nodes; see
    ``_PARSER`` for their classes), without its regex pass that strips the characters XML forbids
    over the whole page (about a third of the cost of loading) when the page has none of them, as
    nearly every page."""
    if _has_xml_invalid_chars(text):
        return load_html(text)
    # load_html and repair_faulty_html for a str, their no-op substitution left out.
    beginning = text[:50].lower()
    if "doctype" in beginning:
        end = text.find("\n")
        if end < 0:
            text = DOCTYPE_TAG.sub("", text, count=1) + "\n"
        elif DOCTYPE_TAG.match(text, 0, end):  # else the text stays as it is (no copies of the page)
            text = DOCTYPE_TAG.sub("", text[:end], count=1) + text[end:]
    for line in text[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            text = FAULTY_HTML.sub(r"\1>", text, count=1)
            break
    fallback_parse = False
    tree: HtmlElement | None
    try:
        tree = fromstring(text, parser=_PARSER)
    except ValueError:
        tree = fromstring_bytes(text)
        fallback_parse = True
    except etree.LxmlError:
        tree = None
    if (tree is None or len(tree) < 1) and not fallback_parse:
        tree = fromstring_bytes(text)
    if tree is not None and "html" not in beginning and len(tree) < 2:
        tree = None  # not HTML at all (load_html's dubious-HTML check)
    return tree


# --- structured metadata --------------------------------------------------------------------------

_ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "blogposting",
    "socialmediaposting",
    "liveblogposting",
    "report",
    "scholarlyarticle",
    "techarticle",
    "webpage",
    "creativework",
}


@dataclass
class _Meta:
    title_tag: str | None = None
    og_title: str | None = None
    twitter_title: str | None = None
    h1: list[str] = field(default_factory=list)
    ld_headline: str | None = None
    ld_body: str | None = None
    ld_description: str | None = None
    ld_lang: str | None = None
    ld_type: str | None = None
    ld_author: str | None = None
    ld_date: str | None = None
    description: str | None = None
    og_description: str | None = None
    og_type: str | None = None
    site_name: str | None = None
    html_lang: str | None = None
    og_locale: str | None = None
    canonical: str | None = None
    meta_date: str | None = None
    meta_author: str | None = None
    ld_publisher: str | None = None
    ld_other: set[str] = field(default_factory=set)  # non-article JSON-LD types on the page


_DATE_KEYS = {
    "article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "article.published",
    "published_time",
    "cxenseparse:recs:publishtime",
}
_AUTHOR_KEYS = {"author", "article:author", "dc.creator", "parsely-author", "sailthru.author", "byl"}
_DATE_RE = re.compile(r"((?:19|20)\d\d)-?([01]\d)-?([0-3]\d)")


def _iso_date(value: str | None) -> str | None:
    """``YYYY-MM-DD`` from a machine-readable date string, or None."""
    if not value:
        return None
    m = _DATE_RE.search(value)
    if not m:
        return None
    y, mo, d = m.groups()
    if not (1 <= int(mo) <= 12 and 1 <= int(d) <= 31):
        return None
    return f"{y}-{mo}-{d}"


def _ld_objects(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _ld_objects(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _ld_objects(data["@graph"])
        main = data.get("mainEntity")
        if isinstance(main, dict | list):
            yield from _ld_objects(main)


def _ld_types(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type")
    types = t if isinstance(t, list) else [t]
    return {str(x).lower() for x in types if x}


def _ld_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        return _ld_text(value[0])
    if isinstance(value, dict):
        return _ld_text(value.get("name") or value.get("@value"))
    return None


def _ld_author(value: Any) -> str | None:
    values = value if isinstance(value, list) else [value]
    names = [n for n in (_ld_text(v) for v in values) if n]
    return ", ".join(dict.fromkeys(names)) or None


def _read_meta(tree: HtmlElement) -> _Meta:
    meta = _Meta()
    meta.html_lang = tree.get("lang") or tree.get("xml:lang")
    title = next(tree.iterdescendants("title"), None)
    if title is not None:
        meta.title_tag = title.text_content()
    for el in tree.iterdescendants("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = el.get("content")
        if not key or not content:
            if (el.get("http-equiv") or "").lower() == "content-language" and content:
                meta.html_lang = meta.html_lang or content
            continue
        if key == "og:title":
            meta.og_title = meta.og_title or content
        elif key == "twitter:title":
            meta.twitter_title = meta.twitter_title or content
        elif key == "og:description":
            meta.og_description = meta.og_description or content
        elif key == "description":
            meta.description = meta.description or content
        elif key == "og:site_name":
            meta.site_name = meta.site_name or content
        elif key == "og:locale":
            meta.og_locale = meta.og_locale or content
        elif key == "og:type":
            meta.og_type = meta.og_type or content
        elif key in _DATE_KEYS:
            meta.meta_date = meta.meta_date or _iso_date(content)
        elif key in _AUTHOR_KEYS and "://" not in content:
            meta.meta_author = meta.meta_author or content
    for link in tree.iterdescendants("link"):
        if (link.get("rel") or "").lower() == "canonical" and link.get("href"):
            meta.canonical = link.get("href")
            break
    for h1 in tree.iter("h1"):
        text = clean_text(h1.text_content())
        if text:
            meta.h1.append(text)
    for script in tree.iterdescendants("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        for obj in _ld_objects(data):
            types = _ld_types(obj)
            if not types & _ARTICLE_TYPES:
                meta.ld_other |= types
                continue
            is_article = bool(types - {"webpage", "creativework"})
            if meta.ld_type and not is_article:
                continue
            if is_article or not meta.ld_type:
                meta.ld_type = min(types)
                meta.ld_headline = _ld_text(obj.get("headline")) or meta.ld_headline
                meta.ld_body = _ld_text(obj.get("articleBody")) or meta.ld_body
                meta.ld_description = _ld_text(obj.get("description")) or meta.ld_description
                meta.ld_lang = _ld_text(obj.get("inLanguage")) or meta.ld_lang
                meta.ld_author = _ld_author(obj.get("author")) or meta.ld_author
                meta.ld_date = _ld_text(obj.get("datePublished")) or meta.ld_date
                meta.ld_publisher = _ld_text(obj.get("publisher")) or meta.ld_publisher
    return meta


# --- title ----------------------------------------------------------------------------------------

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
    site_tokens = {t for s in sites for t in re.findall(r"\w+", s)}

    def is_site(part: str) -> bool:
        norm = normalise_line(part)
        if norm in sites or any(len(s) >= 4 and (s in norm or norm in s) for s in sites):
            return True
        tokens = re.findall(r"\w+", norm)
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


def _pick_title(meta: _Meta, traf_title: str | None, site_name: str | None, host: str | None) -> str | None:
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
    cands = [clean_text(unescape(t)) for t in raw if t]
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


# --- body -----------------------------------------------------------------------------------------

_BLOCK_TAGS = {"p", "head", "quote", "code", "item", "cell", "list", "table", "row", "div"}


def _block_text(el: etree._Element) -> str:
    return clean_text(xmltotxt(el, False))


def _link_chars(el: etree._Element) -> int:
    return sum(len(clean_text("".join(ref.itertext()))) for ref in el.iter("ref"))


def _blocks(body: etree._Element | None) -> list[Block]:
    """Flatten trafilatura's output tree into blocks, one per paragraph, heading or list item.

    The tree is modified (links are unwrapped once their share of each block has been counted).
    """
    if body is None:
        return []
    entries: list[tuple[etree._Element, str, int]] = []
    group = 0

    def walk(el: etree._Element) -> None:
        nonlocal group
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in ("graphic", "lb"):
                continue
            if tag == "list":
                group += 1
                entries.extend((item, "item", group) for item in child.iterchildren("item"))
            elif tag == "table":
                rows = [r for r in child.iter("row") if next(r.iterancestors("table"), None) is child]
                cells = [c for r in rows for c in r.iterchildren("cell")]
                if any(c.find("p") is not None or c.find("head") is not None for c in cells):
                    # A layout table: its cells hold paragraphs, not data.
                    for cell in cells:
                        walk(cell)
                else:
                    group += 1
                    entries.extend((row, "cell", group) for row in rows)
            elif tag == "quote" and len(child) and all(c.tag in _BLOCK_TAGS for c in child):
                walk(child)
            elif tag in ("head", "p", "code"):
                entries.append((child, tag, -1))
            else:
                entries.append((child, "p", -1))

    walk(body)
    links = [_link_chars(el) for el, _, _ in entries]
    etree.strip_tags(body, "ref")
    blocks: list[Block] = []
    for (el, kind, grp), link_chars in zip(entries, links, strict=True):
        text = xmltotxt(el, False)
        lines = [line for line in (clean_text(x) for x in text.split("\n")) if line]
        total = sum(len(line) for line in lines) or 1
        for line in lines:
            # A line broken off a block (<br>) gets the block's link share as its estimate.
            blocks.append(Block(line, kind, round(link_chars * len(line) / total), grp))
    return blocks


def _similar(a: str, b: str) -> bool:
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


def _find_standfirst(
    tree: HtmlElement, meta: _Meta, title: str | None, first_block: str | None
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
        normalise_line(clean_text(unescape(d)))
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


# A link whose text is this long is a teaser card (headline, summary, byline wrapped in one <a>).
_CARD_MIN_CHARS = 80
# Extracted blocks shorter than this are never matched against cards (too common to tell).
_CARD_BLOCK_MIN_CHARS = 15


def _card_texts(tree: HtmlElement) -> list[str]:
    """Normalised texts of the page's teaser cards: links that wrap a whole block of text.

    trafilatura unwraps such links, so their text reaches the output as plain paragraphs; an extracted
    block that lies entirely inside one of them is a teaser of another article.
    """
    cards = []
    for a in _CARD_LINKS(tree):
        norm = normalise_line(a.text_content())
        if len(norm) >= _CARD_MIN_CHARS:
            cards.append(norm)
    return cards + _teaser_list_texts(tree)


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


def _teaser_list_texts(tree: HtmlElement) -> list[str]:
    """Normalised texts of teaser lists: three or more sibling elements that each hold one headline
    link, opening the element's text, followed by a short summary ("Related stories" boxes)."""
    anchors = _HEADLINE_LINK(tree)
    if len(anchors) < 3:
        return []
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
        card = a
        parent = a.getparent()
        while parent is not None and counts.get(parent, 0) == 1:
            card, parent = parent, parent.getparent()
        if card is a or parent is None:
            continue
        text = normalise_line(card.text_content())
        if len(text) > _TEASER_MAX_CHARS:
            continue
        link = normalise_line(a.text_content())
        if text.startswith(link) and len(text) >= len(link) + 20 and _stands_alone(a):
            by_parent.setdefault(parent, []).append(text)
    return [t for texts in by_parent.values() if len(texts) >= 2 for t in texts]


def _drop_card_teasers(blocks: list[Block], cards: list[str]) -> list[Block]:
    """Blocks without those that are the text of a teaser card; unchanged when that would remove most
    of the text (a page that wraps its article in a link)."""
    if not cards or not blocks:
        return blocks
    # Compared without spaces: text_content() runs block elements together ("Headline" + "Summary"
    # gives "HeadlineSummary") where trafilatura puts a space or a line break.
    squeezed = [c.replace(" ", "") for c in cards]
    kept = []
    for b in blocks:
        if len(b.text) >= _CARD_BLOCK_MIN_CHARS:
            norm = normalise_line(b.text).replace(" ", "")
            if any(norm in c for c in squeezed):
                continue
        kept.append(b)
    if sum(len(b.text) for b in kept) < 0.5 * sum(len(b.text) for b in blocks):
        return blocks
    return kept


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
    a, b = set(_tokens(norm)), set(_tokens(desc))
    if not a or not b:
        return False
    common = len(a & b)
    return common >= 0.6 * len(b) and common >= 0.5 * len(a)


def _link_text_share(el: HtmlElement) -> float:
    total = len(clean_text(el.text_content()))
    links = sum(len(clean_text(a.text_content())) for a in el.iter("a"))
    return links / total if total else 0.0


_NON_ARTICLE_TYPES = {
    "website",
    "collectionpage",
    "itemlist",
    "searchresultspage",
    "profilepage",
    "aboutpage",
    "contactpage",
    "faqpage",
    "product",
    "organization",
    "person",
    "webpage",
}


def _published(tree: HtmlElement, meta: _Meta) -> str | None:
    """Publication date from JSON-LD, meta tags or the first <time datetime> of the article."""
    date = _iso_date(meta.ld_date) or meta.meta_date
    if date:
        return date
    for scope in (tree.find(".//article"), tree):
        if scope is None:
            continue
        for el in scope.iter("time"):
            date = _iso_date(el.get("datetime"))
            if date:
                return date
    return None


def _looks_like_article(tree: HtmlElement, meta: _Meta, words: int, date: str | None, listing: bool) -> bool:
    """Whether the page is an article rather than an index, section or service page.

    ``listing`` says the extracted text was mostly separate links (a teaser list).
    """
    og = (meta.og_type or "").lower()
    ld = (meta.ld_type or "").lower()
    strong = (
        og.startswith("article")
        or og in ("news", "blog", "video.other")
        or (bool(ld) and ld not in _NON_ARTICLE_TYPES)
    )
    if strong:
        return True
    if listing:
        return False
    declared_index = (
        og in ("website", "profile", "product")
        or ld in _NON_ARTICLE_TYPES
        or bool(meta.ld_other & {"collectionpage", "itemlist", "searchresultspage"})
    )
    if declared_index:
        # Many article pages carry a generic og:type; a long running text still reads as one.
        return words >= 250
    has_article_el = tree.find(".//article") is not None
    return words >= 80 and (has_article_el or date is not None) or words >= 200


def _tokens(text: str) -> list[str]:
    return [t.casefold() for t in _WORD_RE.findall(text)]


def _headline_variants(meta: _Meta, title: str | None) -> list[list[str]]:
    """Token lists of every headline wording the page carries."""
    raw = [title, meta.og_title, meta.ld_headline, meta.twitter_title, *meta.h1[:2]]
    variants = []
    for t in raw:
        if t:
            toks = _tokens(clean_text(unescape(t)))
            if toks and toks not in variants:
                variants.append(toks)
    return variants


def _is_headline(text: str, headlines: list[list[str]]) -> bool:
    """A line that is one of the headlines, perhaps with a kicker or site name around it."""
    toks = _tokens(text)
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


def _agree_with_article_body(blocks: list[Block], article_body: str) -> list[Block]:
    """Use the JSON-LD ``articleBody`` as a second opinion on the extracted blocks.

    Only a full text counts (not a teaser): it must cover most of what was extracted. Then blocks
    that share nothing with it are page furniture and go; where it holds much more text than was
    extracted, the extraction was truncated and articleBody's own paragraphs replace it.
    """
    ld_tokens = _tokens(article_body)
    if len(ld_tokens) < 80 or not blocks:
        return blocks
    ld_sh = _shingles(ld_tokens)
    block_tokens = [_tokens(b.text) for b in blocks]
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


def _drop_headlines(blocks: list[Block], headlines: list[list[str]]) -> list[Block]:
    """Blocks without the headline (any wording, near the top) and the kicker line right above it."""
    drop: set[int] = set()
    for i, b in enumerate(blocks[:8]):
        if _is_headline(b.text, headlines):
            drop.add(i)
            if i > 0 and i - 1 not in drop:
                above = blocks[i - 1].text
                if len(_tokens(above)) <= 4 and above[-1:] not in '.!?:"”»' and blocks[i - 1].kind != "item":
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


def _drop_author_notes(blocks: list[Block], author: str) -> list[Block]:
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
    return blocks[:start] if has_full and start > 0 else blocks


_COMPANY_VERB_RE = r"(?:is (?:a|an|the|one of)|is headquartered|is based|was founded|was established|, founded in|, a leading)"


def _drop_company_notes(blocks: list[Block], site_names: list[str], host: str | None) -> list[Block]:
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


def _declared_lang(meta: _Meta, content_language: str | None) -> str | None:
    for cand in (meta.html_lang, meta.ld_lang, meta.og_locale, content_language):
        code = normalise_lang(cand.split(",")[0] if cand else None)
        if code:
            return code
    return None


def _host(url: str | None) -> str | None:
    if not url:
        return None
    m = re.match(r"^[a-z][a-z0-9+.-]*://([^/:?#]+)", url, re.IGNORECASE)
    return m.group(1).lower() if m else None


def extract(
    html: str | bytes,
    url: str | None = None,
    *,
    content_language: str | None = None,
    options: ExtractOptions | None = None,
    content_type: str | None = None,
) -> Article | None:
    """Extract the clean article from ``html``; None when the page is not an article or is empty.

    ``content_language`` and ``content_type`` are the page's HTTP headers when known: the first is a
    declared language, the second may name the charset of ``html`` bytes.
    """
    opts = options or DEFAULT_OPTIONS
    try:
        return _extract(html, url, content_language, content_type, opts)
    except (ValueError, TypeError, etree.LxmlError, RecursionError) as exc:
        logger.warning("extraction failed for %s: %s", url, exc)
        return None


def _trafilatura(tree: HtmlElement, opts: ExtractOptions, fast: bool) -> Any:
    """trafilatura's document (body tree and text) for ``tree``, or None."""
    doc = trafilatura.bare_extraction(tree, options=_trafilatura_options(opts.include_tables, fast))
    if doc is None or isinstance(doc, dict):  # a dict only with as_dict=True, which we never ask for
        return None
    return doc


@functools.lru_cache(maxsize=8)
def _trafilatura_options(include_tables: bool, fast: bool) -> Extractor:
    """The options ``bare_extraction`` builds from the keyword arguments below, built once: reading
    them from trafilatura's config costs about 0.1 ms a call, and trafilatura never modifies them.

    No URL is given: trafilatura uses it only to resolve link targets (``urljoin`` on every link of
    the page, a good share of its time), and we read links' text, never their targets.
    """
    return Extractor(
        output_format="python",
        fast=fast,
        comments=False,
        formatting=False,
        links=True,
        images=False,
        tables=include_tables,
        url=None,
        with_metadata=False,
    )


# Paragraphs of the page outside these are running text.
_CHROME_TAGS = ("nav", "footer", "aside", "header")
# A fast extraction holding less than this share of the page's paragraph text looks truncated.
TRUNCATED_SHARE = 0.5


def _looks_truncated(tree: HtmlElement, text: str) -> bool:
    """Whether an extraction of ``text`` left out much of the running text of the page, or is
    mostly short lines (a menu rather than an article)."""
    lines = text.splitlines()
    prose = sum(len(line) for line in lines if len(line) >= 80)
    if prose < 0.5 * len(text):
        return True
    para_chars = sum(
        len(" ".join(p.text_content().split()))
        for p in tree.iter("p")
        if next(p.iterancestors(_CHROME_TAGS), None) is None
    )
    return len(text) < TRUNCATED_SHARE * para_chars


def _extract(
    html: str | bytes,
    url: str | None,
    content_language: str | None,
    content_type: str | None,
    opts: ExtractOptions,
) -> Article | None:
    if not html:
        return None
    text = decode_html(html, content_type)
    if not text.strip():
        return None
    tree = _load_html(text)
    if tree is None:
        return None
    meta = _read_meta(tree)
    # trafilatura's fast mode first; its full mode (which compares with readability and jusText) only
    # where the fast output looks truncated or leaves nothing after cleaning.
    for fast in (True, False):
        doc = _trafilatura(tree, opts, fast)
        if fast and (doc is None or _looks_truncated(tree, doc.text or "")):
            continue
        if doc is None:
            return None
        raw_blocks = _blocks(doc.body)
        blocks = clean_blocks(
            raw_blocks,
            extra_lines=opts.extra_boilerplate_lines,
            extra_prefixes=opts.extra_boilerplate_prefixes,
            site_lines=opts.site_boilerplate,
            link_ratio=opts.link_ratio,
        )
        if not fast or sum(len(b.text) for b in blocks) >= opts.min_body_chars:
            break
    link_blocks = sum(1 for b in raw_blocks if b.link_ratio >= 0.5)
    listing = link_blocks >= 5 and link_blocks >= 0.4 * len(raw_blocks)
    removed_site_lines: list[str] = []
    if opts.site_boilerplate:
        kept_texts = {b.text for b in blocks}
        removed_site_lines = [
            b.text
            for b in raw_blocks
            if b.text.strip() not in kept_texts and is_site_line(b.text, opts.site_boilerplate)
        ]
    blocks = _drop_card_teasers(blocks, _card_texts(tree))
    if meta.ld_body:
        blocks = _agree_with_article_body(blocks, clean_text(unescape(meta.ld_body)))
    site_name = clean_text(unescape(meta.site_name or meta.ld_publisher or "")) or None
    title = _pick_title(meta, None, site_name, _host(url))
    published = _published(tree, meta)

    # The body never repeats the title, in any of the page's wordings of it (og, JSON-LD, <h1>...).
    headlines = _headline_variants(meta, title)
    blocks = _drop_headlines(blocks, headlines)
    author = clean_text(unescape(meta.ld_author or meta.meta_author or "")) or None
    if author:
        blocks = _drop_author_notes(blocks, author)
    blocks = _drop_company_notes(blocks, [s for s in (site_name, meta.site_name) if s], _host(url))

    lede: str | None = None
    standfirst = _find_standfirst(tree, meta, title, blocks[0].text if blocks else None)
    if standfirst:
        lede = standfirst
        for i, b in enumerate(blocks[:6]):
            if _similar(b.text, standfirst):
                # What comes before the standfirst's copy in the body is page chrome (breadcrumbs,
                # share links): short lines go; a longer block stays.
                head = [x for x in blocks[:i] if i >= 3 and word_count(x.text) > 8]
                blocks[: i + 1] = head
                break
    if lede is None:
        descs = [
            clean_text(unescape(d)) for d in (meta.ld_description, meta.og_description, meta.description) if d
        ]
        if (
            blocks
            and any(_similar(blocks[0].text, d) for d in descs)
            or blocks
            and blocks[0].kind in ("p", "quote")
            or blocks
            and word_count(blocks[0].text) >= 12
        ):
            lede = blocks.pop(0).text
    body = "\n\n".join(b.text for b in blocks)
    if lede and not body:
        body, lede = lede, None
    full = "\n\n".join(p for p in (lede, body) if p)
    if len(full) < opts.min_body_chars:
        return None
    if not _looks_like_article(tree, meta, word_count(full), published, listing):
        return None

    declared = _declared_lang(meta, content_language)
    lang, conf, source = (None, None, None)
    if opts.detect_lang:
        lang, conf, source = detect_language(full, declared)
    return Article(
        title=title,
        lede=lede,
        body=body,
        author=author,
        published=published,
        site_name=site_name,
        canonical_url=meta.canonical or url,
        lang=lang,
        lang_confidence=round(conf, 4) if conf is not None else None,
        declared_lang=declared,
        lang_source=source,
        # Lines dropped as learned boilerplate of the site, so that learning keeps counting them.
        extra={SITE_LINES_REMOVED: "\n".join(removed_site_lines)} if removed_site_lines else {},
    )


SITE_LINES_REMOVED = "site_boilerplate_removed"


def lines_for_learning(article: Article) -> list[str]:
    """The normalised lines of ``article`` to count for per-site boilerplate learning
    (``archive.boilerplate.record_lines``): its clean text plus the learned lines extract removed."""
    removed = article.extra.get(SITE_LINES_REMOVED, "")
    return site_lines_of("\n".join(p for p in (article.text, removed) if p))
