"""Words and clean text: what a word is, how words are counted, and how a text is freed of
invisible characters and runs of spaces.

One definition for extraction, boilerplate learning, dedup and the seed check. Only the standard
library is imported here, so that any part of the project (``archive/`` too) may use it.
"""

from __future__ import annotations

import re
import unicodedata

from crawler.boilerplate import CharRemover

__all__ = ["WORD_RE", "clean_text", "folded_words", "word_count"]


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
# Soft hyphens, zero-width spaces, word joiners, BOMs and direction marks carry no text. Zero-width
# (non-)joiners stay: Persian and Indic scripts spell words with them.
_remove_invisible = CharRemover("\u00ad\u200b\u2060\ufeff\u200e\u200f")
# Runs of spaces and tabs, no-break and other spaces, become one space: matched are only the runs
# that change (two or more characters, or one that is not a plain space), much the cheaper.
_SPACE_CHARS = "\t\u00a0\u2000-\u200a\u202f\u205f"
_SPACES_RE = re.compile(f"[ {_SPACE_CHARS}]{{2,}}|[{_SPACE_CHARS}]")


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
        return len(WORD_RE.findall(text))
    return cjk + len(WORD_RE.findall(_CJK_RE.sub(" ", text)))


def clean_text(text: str) -> str:
    """No soft hyphens or zero-width spaces, single spaces, stripped.

    The page's Unicode normalisation form is kept (an NFD page stays NFD): the text is the page's.
    """
    return _SPACES_RE.sub(" ", _remove_invisible(text)).strip()


def folded_words(text: str) -> list[str]:
    """The words of ``text`` (:data:`WORD_RE`), casefolded."""
    return [t.casefold() for t in WORD_RE.findall(text)]
