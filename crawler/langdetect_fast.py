"""langdetect's detector with the same arithmetic in fewer Python steps.

:class:`FastDetector` is a drop-in :class:`langdetect.detector.Detector`: same profiles, same random
draws from the same seeded generator, the same floating-point operations in the same order, hence
bit-identical probabilities (``tests/test_lang.py`` checks this against the stock detector). What it
saves is interpreter work: the text is normalised with one ``str.translate``, its n-grams are read
once per distinct word (cached), and each update of the 55 language probabilities is one numpy
operation instead of a Python loop (elementwise IEEE products and quotients round alike; the sum of
a normalisation stays Python's).

Imported lazily by :mod:`crawler.lang` (importing it loads langdetect).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
from langdetect.detector import Detector
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.utils.ngram import NGram

__all__ = ["FastDetector"]

_SPACE_RUN_RE = re.compile(" {2,}")
# Detector.cleaning_text's two classes of characters: 'A'..'z' and anything from U+0300 on (its test
# for the Latin Extended Additional block compares a block number with a block name, so it never
# excludes anything).
_LATIN_RE = re.compile("[A-z]")
_NON_LATIN_RE = re.compile("[\u0300-\U0010ffff]")


class FastDetector(Detector):  # type: ignore[misc]
    """A langdetect ``Detector`` (construct it with the loaded factory) that computes the same
    results faster. Verbose tracing is not supported."""

    text: str

    def append(self, text: str) -> None:
        """As ``Detector.append``: URLs and e-mail addresses out, Vietnamese normalised, runs of
        spaces collapsed, at most ``max_text_length`` characters."""
        text = self.URL_RE.sub(" ", text)
        text = self.MAIL_RE.sub(" ", text)
        text = NGram.normalize_vi(text)
        self.text += _SPACE_RUN_RE.sub(" ", text[: self.max_text_length])

    def cleaning_text(self) -> None:
        """As ``Detector.cleaning_text``: a text mostly in a non-Latin script loses its Latin letters."""
        text = self.text
        if len(_LATIN_RE.findall(text)) * 2 < len(_NON_LATIN_RE.findall(text)):
            self.text = _LATIN_RE.sub("", text)

    def _extract_ngrams(self) -> list[str]:
        """As ``Detector._extract_ngrams``: the known 1-, 2- and 3-grams of the text, in order, with
        repeats, skipping all-capital words."""
        return [w for word in _words(self.text) for w in _word_ngrams(word, self.word_lang_prob_map)]

    def _detect_block(self) -> None:
        """As ``Detector._detect_block``: ``n_trial`` random walks over the text's n-grams.

        Each update multiplies the 55 probabilities by one n-gram's profile row (plus a constant),
        as numpy arrays: the same roundings as langdetect's loop over floats.
        """
        self.cleaning_text()
        # The n-grams in _extract_ngrams' order: the same draws pick the same n-grams.
        known = self.word_lang_prob_map
        cache = _WORD_NGRAMS
        if len(cache) > _CACHE_MAX:
            cache.clear()
        ngrams: list[str] = []
        for word in _words(self.text):
            grams = cache.get(word)
            if grams is None:
                grams = cache[word] = _word_ngrams(word, known)
            ngrams += grams
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        rows = _ROWS
        if len(rows) > _CACHE_MAX:
            rows.clear()
        langprob = np.zeros(len(self.langlist))
        rng = self.random
        rng.seed(self.seed)
        conv, limit, n_trial = self.CONV_THRESHOLD, self.ITERATION_LIMIT, self.n_trial
        choice = rng.choice
        for _ in range(n_trial):
            prob = np.array(self._init_probability())
            alpha = self.alpha + rng.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            weight = alpha / self.BASE_FREQ
            i = 0
            while True:
                ngram = choice(ngrams)
                row = rows.get(ngram)
                if row is None:  # an array only for the n-grams drawn, a fraction of the text's
                    row = rows[ngram] = np.array(known[ngram])
                prob *= row + weight
                if i % 5 == 0:
                    prob /= sum(prob.tolist())  # Python's sum: langdetect's order of additions
                    if prob.max() > conv or i >= limit:
                        break
                i += 1
            langprob += prob / n_trial
        self.langprob = langprob.tolist()


class _NormalisedChars(dict[int, str]):
    """``str.translate`` table of ``NGram.normalize``, filled as characters are met."""

    def __missing__(self, code: int) -> str:
        ch = self[code] = NGram.normalize(chr(code))
        return ch


_NORMALISE = _NormalisedChars()
# Caches of the n-grams of each word and of the profile row (probability per language) of each
# n-gram as an array, emptied when they grow past this.
_CACHE_MAX = 20_000
_WORD_NGRAMS: dict[str, list[str]] = {}
_ROWS: dict[str, np.ndarray] = {}


def _words(text: str) -> Iterator[str]:
    """The words of ``text`` as ``NGram.add_char`` reads them: normalised characters, split at
    spaces, each with its trailing space (it starts afresh after every space)."""
    words = text.translate(_NORMALISE).split(" ")
    last = len(words) - 1
    for k, word in enumerate(words):
        if word:
            yield word + " " if k < last else word


def _word_ngrams(word: str, known: dict[str, list[float]]) -> list[str]:
    """The known n-grams of one normalised word (``NGram.add_char`` from a fresh start)."""
    result: list[str] = []
    grams = " "
    capital = False
    for ch in word:
        last = grams[-1]
        if len(grams) >= NGram.N_GRAM:
            grams = grams[1:]
        grams += ch
        if ch.isupper():
            if last.isupper():
                capital = True
        else:
            capital = False
        if capital:
            continue
        if ch != " " and ch in known:
            result.append(ch)
        n = len(grams)
        if n >= 2:
            if grams[-2:] in known:
                result.append(grams[-2:])
            if n >= 3 and grams in known:
                result.append(grams)
    return result
