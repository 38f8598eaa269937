"""Decoding and parsing: a page's bytes to text (BOM, HTTP/meta charset that the bytes agree with, else
sniffed; no control characters), the text to
the lxml tree that trafilatura and the later stages read; and HTML left in text (a JSON-LD field, a
page that escaped its own markup) to plain text."""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Callable
from html import unescape

from lxml import etree
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlEntity,
    HTMLParser,
    HtmlProcessingInstruction,
    fragment_fromstring,
    fromstring,
)
from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, fromstring_bytes, load_html
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

from crawler.text import MARKUP_RE, TAG_RE, remove_controls

__all__ = ["decode_html", "html_text", "load_page", "parse_html"]


# Multi-byte encodings of Chinese, Japanese and Korean (as charset_normalizer names them) whose valid
# text, sniffed with confidence, beats a declared single-byte charset.
_CJK_MULTIBYTE = frozenset(
    {
        *("gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp950"),
        *("cp932", "shift_jis", "shift_jis_2004", "shift_jisx0213", "euc_jp", "euc_jis_2004", "euc_jisx0213"),
        *("cp949", "euc_kr", "johab"),
    }
)
# The single-byte charsets that servers put in headers by default (Apache's, PHP's), over pages in
# any script: only these lose to sniffed CJK text. A page declared windows-1251 or KOI8-R is
# taken at its word (short Cyrillic words can also form valid GBK pairs).
_WESTERN = frozenset(codecs.lookup(name).name for name in ("cp1252", "latin-1", "iso-8859-15"))
# Hangul syllables and jamo, kana, Han ideographs, CJK punctuation and full-width forms.
_CJK_TEXT_RE = re.compile(
    "[\u1100-\u11ff\u3000-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]"
)
# Most of a sniffer's verdict that the bytes are CJK text: its chaos (share of odd characters) at
# most this, and this share at least of the decoded non-ASCII characters CJK.
_SNIFF_MAX_CHAOS = 0.1
_MIN_CJK_SHARE = 0.8
# A declared multi-byte charset (UTF-8 the most) still fits bytes with a few invalid sequences (a
# stray Latin-1 byte in a UTF-8 page), at most this share of the non-ASCII characters.
_MAX_INVALID_SHARE = 0.01
_MIN_VALID_PER_INVALID = 20
# CJK text that a sniffer finds has at least this many characters; and its decoding keeps every
# "<" and ">" of the bytes (a wrong one takes markup for the second byte of a character).
_MIN_CJK_CHARS = 8
_SNIFF_BYTES = 200_000
_DEFAULT_ENCODING = "cp1252"  # w3lib's, and the web's, when nothing tells


@functools.lru_cache(maxsize=64)
def _codec(name: str | None) -> str | None:
    """The Python codec of an encoding label (WHATWG's mapping: latin-1 is windows-1252), or None."""
    if not name:
        return None
    resolved = resolve_encoding(name)
    if resolved is None:
        try:
            resolved = codecs.lookup(name).name
        except LookupError:
            return None
    return codecs.lookup(resolved).name


@functools.lru_cache(maxsize=64)
def _single_byte(codec: str) -> bool:
    """Whether every byte of ``codec`` is one character (Latin-1, windows-125x, KOI8...)."""
    return len(bytes(range(0x80, 0x100)).decode(codec, "replace")) == 0x80


def _decode(body: bytes, codec: str) -> tuple[str, bool]:
    """``body`` decoded with ``codec``, invalid sequences replaced, and whether there were none."""
    try:
        return body.decode(codec), True
    except UnicodeDecodeError:
        return to_unicode(body, codec), False
    except LookupError:  # a codec of no byte text (rot13...)
        return to_unicode(body, _DEFAULT_ENCODING), False


def _few_invalid(text: str) -> bool:
    """Whether the replacement characters of ``text`` are few beside its other non-ASCII characters
    (a stray byte among many good characters; not a text whose every non-ASCII byte is invalid)."""
    invalid = text.count("\ufffd")
    if not invalid:
        return True
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return (
        invalid <= max(2.0, _MAX_INVALID_SHARE * non_ascii)
        and non_ascii - invalid >= _MIN_VALID_PER_INVALID * invalid
    )


def _sniffed(body: bytes) -> tuple[str, float] | None:
    """(codec, chaos) of charset_normalizer's best guess at ``body``'s encoding, or None."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:_SNIFF_BYTES]).best()
    except (ImportError, ValueError, LookupError):  # no sniffer or no verdict
        return None
    codec = _codec(best.encoding) if best is not None else None
    return (codec, best.chaos) if best is not None and codec is not None else None


def _sniffed_cjk(body: bytes, sniff: Callable[[], tuple[str, float] | None]) -> tuple[str, str] | None:
    """(codec, text) when the sniffer (``sniff()``, :func:`_sniffed` of ``body``) finds ``body`` to be
    valid CJK multi-byte text, with confidence."""
    sniffed = sniff()
    if sniffed is None or sniffed[0] not in _CJK_MULTIBYTE or sniffed[1] > _SNIFF_MAX_CHAOS:
        return None
    codec = sniffed[0]
    text, valid = _decode(body, codec)
    if not valid and not _few_invalid(text):
        return None
    if text.count("<") != body.count(b"<") or text.count(">") != body.count(b">"):
        return None
    non_ascii = [ch for ch in text if ord(ch) > 0x7F and ch != "\ufffd"]
    cjk = len(_CJK_TEXT_RE.findall("".join(non_ascii)))
    if cjk < _MIN_CJK_CHARS or cjk < _MIN_CJK_SHARE * len(non_ascii):
        return None
    return codec, text


def _declared_fits(
    body: bytes, codec: str, utf8: str | None, sniff: Callable[[], tuple[str, float] | None]
) -> str | None:
    """The text of ``body`` in the declared ``codec`` when the bytes agree with it, else None.

    They disagree when they are valid UTF-8 with non-ASCII characters and the charset is another
    (a real Latin-1 or GBK page almost never forms valid UTF-8 sequences); when a multi-byte charset
    finds more than a few invalid sequences; when a single-byte charset has bytes it leaves undefined,
    or is a Western one (:data:`_WESTERN`) over bytes that a sniffer reads as Chinese, Japanese or
    Korean multi-byte text; when a UTF-16/32
    charset without BOM is declared over bytes with no NUL.
    """
    if codec.startswith(("utf-16", "utf-32")):
        if b"\x00" not in body[:4096]:
            return None
        if codec in ("utf-16", "utf-32"):  # no BOM: the byte order from where the NULs are
            codec += "-be" if body[:1] == b"\x00" else "-le"
        return _decode(body, codec)[0]
    if codec == "utf-8":
        if utf8 is not None:
            return utf8
        text = to_unicode(body, "utf-8")
        return text if _few_invalid(text) else None
    if utf8 is not None:
        return None
    text, valid = _decode(body, codec)
    if _single_byte(codec):
        if not valid or (codec in _WESTERN and _sniffed_cjk(body, sniff) is not None):
            return None
        return text
    return text if valid or _few_invalid(text) else None


def _decode_bytes(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """The text of ``body``, and whether it is ``body`` read as (valid) UTF-8."""
    bom_codec, bom = read_bom(body)
    if bom_codec is not None and bom is not None:
        return to_unicode(body[len(bom) :], bom_codec), False
    if body.isascii() and b"\x00" not in body:
        return body.decode("ascii"), True
    try:
        utf8: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    sniff = functools.cache(lambda: _sniffed(body))  # run once, and only when needed
    header = _codec(http_content_type_encoding(content_type))
    if header:
        text = _declared_fits(body, header, utf8, sniff)
        if text is not None:
            return text, text is utf8
    meta = _codec(html_body_declared_encoding(body))
    if meta and meta != header:
        text = _declared_fits(body, meta, utf8, sniff)
        if text is not None:
            return text, text is utf8
    # Nothing declared, or nothing that fits: sniffed.
    if utf8 is not None:
        return utf8, True
    text = to_unicode(body, "utf-8")
    if _few_invalid(text):
        return text, False
    sniffed = sniff()
    return _decode(body, sniffed[0] if sniffed else _DEFAULT_ENCODING)[0], False


# A character reference to a control character (:data:`crawler.text.CONTROL_CHARS` less C1, which
# HTML reads as windows-1252's characters: ``&#128;`` is the euro sign).
_CONTROL_REF_RE = re.compile(
    r"&#(?:0*(?:[1-8]|1[124-9]|2[0-9]|3[01]|127)(?![0-9])|[xX]0*(?:[1-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])(?![0-9a-fA-F]));?"
)


# The control characters' bytes in UTF-8: C0 and DEL are single bytes, C1 are C2 80 to C2 9F.
_C0_BYTES = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)) + b"\x7f"
_C1_UTF8_RE = re.compile(rb"\xc2[\x80-\x9f]")


def _utf8_bytes_clean(body: bytes) -> bool:
    """Whether ``body``, read as UTF-8, holds no control character (:func:`remove_controls`)."""
    if len(body.translate(None, _C0_BYTES)) != len(body):
        return False
    return b"\xc2" not in body or _C1_UTF8_RE.search(body) is None


def decode_html(html: str | bytes, content_type: str | None = None) -> str:
    """Text of the page, its control characters removed.

    Bytes are decoded by, in order: a BOM (UTF-8, UTF-16, UTF-32); the charset of the HTTP
    ``content_type`` when the bytes agree with it; the ``<meta charset>`` or ``http-equiv`` charset
    when they agree with it; a sniffer (valid UTF-8, else charset_normalizer, else windows-1252).
    The bytes disagree with a charset when they are valid UTF-8 with non-ASCII characters and the
    charset is another, when they hold more than a few sequences invalid in it, and, for
    Latin-1/windows-1252, when a sniffer finds valid Chinese, Japanese or Korean multi-byte text
    with confidence. Invalid sequences become U+FFFD.

    NUL and the other control characters (:func:`crawler.text.remove_controls`), raw or as
    character references, are removed: they never reach the tree or the clean text.
    """
    if isinstance(html, str):
        text = remove_controls(html)
    else:
        text, utf8 = _decode_bytes(html, content_type)
        # A UTF-8 page's control characters are told from its bytes, much the faster.
        if not (utf8 and _utf8_bytes_clean(html)):
            text = remove_controls(text)
    if "&#" in text:
        text = _CONTROL_REF_RE.sub(" ", text)
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


def parse_html(text: str) -> HtmlElement | None:
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


def load_page(html: str | bytes, content_type: str | None = None) -> HtmlElement | None:
    """The tree of the page ``html`` (bytes decoded as :func:`decode_html` does), or None when the page
    is empty or not HTML."""
    if not html:
        return None
    text = decode_html(html, content_type)
    if not text.strip():
        return None
    return parse_html(text)


# Elements that end a line of text.
_LINE_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "section")


def html_text(value: str) -> str:
    """The text of a metadata value that may hold HTML (a JSON-LD ``articleBody`` of ``<p>``
    elements) or character references (``&amp;``, escaped twice over on some sites): tags removed,
    paragraphs and line breaks kept as line breaks, references decoded. Plain text is returned as
    it is."""
    for _ in range(3):  # HTML inside escaped HTML inside JSON: each round peels one layer
        if not MARKUP_RE.search(value):
            return value
        if TAG_RE.search(value):
            try:
                frag = fragment_fromstring(value, create_parent="div")
            except (etree.ParserError, ValueError):
                value = TAG_RE.sub(" ", value)
                continue
            for el in frag.iter(_LINE_TAGS):
                el.tail = "\n" + (el.tail or "")
            etree.strip_elements(frag, "script", "style", with_tail=False)
            value = frag.text_content()
        else:
            value = unescape(value)
    return TAG_RE.sub(" ", value)
