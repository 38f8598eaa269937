"""Words, line keys and clean text: the one definition of each, for extraction, boilerplate learning,
dedup and the seed check.

* **Invisible characters** (:class:`CharRemover` and the sets below): soft hyphens, zero-width
  spaces, word joiners and BOMs carry no text anywhere. Clean text (:func:`clean_text`) also drops
  direction marks but keeps zero-width (non-)joiners, which spell Persian and Indic words; line keys
  (:func:`normalise_line`, :func:`line_key`) drop the joiners too, so that a line typed with and
  without them compares equal, and keep direction marks.
* **Words** come in three kinds, each for its own use:

  - :data:`WORD_RE`: a ``\\w`` run with the combining marks inside it (Devanagari vowel signs...),
    the word of :func:`word_count` (stored with each article) and of :func:`folded_words`;
  - :data:`WORD_RUN_RE`: a bare ``\\w+`` run, which splits a word at a combining mark; the length
    thresholds of the boilerplate rules (:func:`word_run_count`) and site-name matching count these;
  - :func:`spaced_words`: whitespace-separated tokens without their punctuation ("don't" is one
    word, "dont"), the words of near-duplicate shingles (:mod:`archive.dedup`).
* **Line keys**: :func:`normalise_line` (casefolded, outer punctuation stripped, inner kept: the key
  of boilerplate line lists, learned site lines and extraction's text comparisons) and
  :func:`line_key` (all punctuation and symbols as spaces: the seed check's tolerant comparison).

Only the standard library is imported here, so that any part of the project (``archive/`` too) may
use it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from html.entities import html5 as _HTML5_ENTITIES

__all__ = [
    "CJK_CHARS",
    "CONTROL_CHARS",
    "INVISIBLE_IN_KEYS",
    "INVISIBLE_IN_TEXT",
    "LINE_SEPARATORS",
    "MARKUP_RE",
    "TAG_RE",
    "WORD_RE",
    "WORD_RUN_RE",
    "CharRemover",
    "clean_text",
    "folded_words",
    "line_key",
    "normalise_line",
    "remove_controls",
    "remove_key_invisibles",
    "spaced_words",
    "word_count",
    "word_run_count",
]


# HTML's elements: a "<word ...>" that names none of them is text ("<The Palace>", Korean quotes).
_HTML_ELEMENTS = (
    "a|abbr|address|area|article|aside|audio|b|bdi|bdo|blockquote|body|br|button|canvas|caption|cite|code|"
    "col|colgroup|data|dd|del|details|dfn|dialog|div|dl|dt|em|embed|fieldset|figcaption|figure|font|footer|"
    "form|h1|h2|h3|h4|h5|h6|head|header|hr|html|i|iframe|img|input|ins|kbd|label|legend|li|link|main|map|"
    "mark|meta|meter|nav|noscript|object|ol|optgroup|option|output|p|param|picture|pre|progress|q|s|samp|"
    "script|section|select|small|source|span|strike|strong|style|sub|summary|sup|svg|table|tbody|td|"
    "template|textarea|tfoot|th|thead|time|title|tr|track|u|ul|var|video|wbr|center|big|tt"
)
# An HTML tag (of an element above, with or without attributes) or an HTML comment.
TAG_RE = re.compile(rf"</?(?:{_HTML_ELEMENTS})(?:\s[^<>]*)?/?>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_NAMED_REFS = "|".join(
    sorted((re.escape(n.rstrip(";")) for n in _HTML5_ENTITIES if n.endswith(";")), key=len, reverse=True)
)
# A tag, or a character reference that HTML would decode (``&amp;``, ``&#8217;``, ``&#x2019;``).
MARKUP_RE = re.compile(
    rf"{TAG_RE.pattern}|&(?:#[0-9]{{1,7}}|#[xX][0-9a-fA-F]{{1,6}}|(?:{_NAMED_REFS}));",
    re.IGNORECASE | re.DOTALL,
)


class CharRemover:
    """A callable that removes the characters ``chars`` from a text.

    They are looked for by a regex before ``str.translate`` runs: translate is about ten times slower
    on non-ASCII text, and nearly no text holds any of them.
    """

    def __init__(self, chars: str) -> None:
        self._table = dict.fromkeys(map(ord, chars), None)
        self._find = re.compile(f"[{re.escape(chars)}]")

    def __call__(self, text: str) -> str:
        if text.isascii() or not self._find.search(text):
            return text
        return text.translate(self._table)


# Soft hyphen, zero-width space, word joiner, BOM: no text anywhere.
_NO_TEXT = "\u00ad\u200b\u2060\ufeff"
_DIRECTION_MARKS = "\u200e\u200f"
_ZERO_WIDTH_JOINERS = "\u200c\u200d"
# What clean text drops: zero-width (non-)joiners stay, Persian and Indic scripts spell words with them.
INVISIBLE_IN_TEXT = _NO_TEXT + _DIRECTION_MARKS
# What line keys drop: the joiners too (a line compares equal with or without them).
INVISIBLE_IN_KEYS = _NO_TEXT + _ZERO_WIDTH_JOINERS

_remove_invisible = CharRemover(INVISIBLE_IN_TEXT)
remove_key_invisibles = CharRemover(INVISIBLE_IN_KEYS)

# The C0 and C1 control characters and DEL, less tab, line feed and carriage return (whitespace that
# a page's text keeps and clean text turns into spaces and line breaks): never text. NUL and most of
# them are dropped; vertical tab, form feed and NEL separate words, and become spaces.
CONTROL_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_CONTROL_RE = re.compile(f"[{CONTROL_CHARS}]")
_CONTROL_TABLE: dict[int, str | None] = {
    cp: None for cp in (*range(0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0))
} | {0x0B: " ", 0x0C: " ", 0x85: " "}


def remove_controls(text: str) -> str:
    """``text`` without control characters (:data:`CONTROL_CHARS`): those that separate words become
    spaces, the others are removed."""
    if not _CONTROL_RE.search(text):
        return text
    return text.translate(_CONTROL_TABLE)


# --- words ----------------------------------------------------------------------------------------


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
WORD_RE = re.compile(rf"\w[\w{_mark_ranges()}]*", re.UNICODE)
# A bare \w+ run: a word with a combining mark is several runs.
WORD_RUN_RE = re.compile(r"\w+")

# Chinese and Japanese are written without spaces: each ideograph or kana counts as a word, as
# word processors count them; otherwise a whole sentence would be one "word".
# Character-class ranges of kana and Han ideographs.
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{CJK_CHARS}]")


def word_count(text: str | None) -> int:
    """Number of words in ``text``: Unicode ``\\w+`` runs (combining marks included), with each
    Chinese/Japanese character counted as a word."""
    if not text:
        return 0
    cjk = len(_CJK_RE.findall(text))
    if not cjk:
        return len(WORD_RE.findall(text))
    return cjk + len(WORD_RE.findall(_CJK_RE.sub(" ", text)))


def folded_words(text: str) -> list[str]:
    """The words of ``text`` (:data:`WORD_RE`), casefolded."""
    return [t.casefold() for t in WORD_RE.findall(text)]


def word_run_count(text: str, cap: int | None = None) -> int:
    """Number of ``\\w+`` runs of ``text`` (:data:`WORD_RUN_RE`); with ``cap``, at most ``cap``: a
    text of that many runs or more is told by a match over its first ``cap`` runs, so that telling a
    short line from a paragraph does not count the paragraph's words."""
    if cap is not None and _at_least_runs(cap).match(text):
        return cap
    return len(WORD_RUN_RE.findall(text))


@functools.lru_cache(maxsize=16)
def _at_least_runs(n: int) -> re.Pattern[str]:
    """A pattern that matches a text of ``n`` or more ``\\w+`` runs (possessive: a run is never
    split to make up the count)."""
    return re.compile(rf"\W*+(?:\w++\W*+){{{n}}}")


def spaced_words(text: str) -> list[str]:
    """The whitespace-separated words of ``text``, NFC and casefolded, each without the characters
    that are not letters, marks or digits (words of Indic scripts stay whole, "don't" is "dont")."""
    words = []
    for token in unicodedata.normalize("NFC", text).casefold().split():
        token = "".join(ch for ch in token if unicodedata.category(ch)[0] in "LMN")
        if token:
            words.append(token)
    return words


# --- clean text and line keys ---------------------------------------------------------------------

# Runs of spaces and tabs, no-break and other spaces, become one space: matched are only the runs
# that change (two or more characters, or one that is not a plain space), much the cheaper.
_SPACE_CHARS = "\t\u00a0\u2000-\u200a\u202f\u205f"
_SPACES_RE = re.compile(f"[ {_SPACE_CHARS}]{{2,}}|[{_SPACE_CHARS}]")


def clean_text(text: str) -> str:
    """No soft hyphens, zero-width spaces or control characters, line breaks as ``\\n``, single
    spaces, stripped.

    The page's Unicode normalisation form is kept (an NFD page stays NFD): the text is the page's.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SPACES_RE.sub(" ", remove_controls(_remove_invisible(text))).strip()


# Characters that separate a label from what follows ("Also read: ...", "यह भी पढ़ें- ...").
LINE_SEPARATORS = ":-–—|»>›•·,.;!/"
_TRIM_CHARS = " \t" + LINE_SEPARATORS + "…\"'“”‘’()[]{}*#🔴▶►→⟶"


# Cached: extraction normalises the same block and card texts several times over.
@functools.lru_cache(maxsize=4096)
def normalise_line(line: str) -> str:
    """Casefolded line without invisible characters, outer punctuation and repeated spaces."""
    line = remove_key_invisibles(unicodedata.normalize("NFC", line))
    # split() breaks at the characters regex \s matches: each run of them becomes one space.
    return " ".join(line.split()).strip(_TRIM_CHARS).casefold()


def line_key(text: str) -> str:
    """The comparison key of a line: NFC, case-folded, punctuation/symbols as spaces, spaces collapsed."""
    text = remove_key_invisibles(unicodedata.normalize("NFC", text)).casefold()
    chars = [" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in text]
    return " ".join("".join(chars).split())
