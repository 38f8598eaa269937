"""Decoding and parsing: a page's bytes to text (BOM, HTTP/meta charset, else sniffed), the text to
the lxml tree that trafilatura and the later stages read; and HTML left in text (a JSON-LD field, a
page that escaped its own markup) to plain text."""

from __future__ import annotations

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
from w3lib.encoding import html_to_unicode

from crawler.text import MARKUP_RE, TAG_RE

__all__ = ["decode_html", "html_text", "load_page", "parse_html"]


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
