"""Near-duplicate detection for exports: exact overlap of word 5-grams, MinHash LSH for candidates.

Two texts are near-duplicates when the Jaccard similarity of their sets of word 5-grams,
|A ∩ B| / |A ∪ B|, reaches the threshold (0.8 by default): the same story with a changed
sentence, a corrected figure or a different footer. Words are the text's whitespace-separated
tokens, case-folded, NFC-normalised, with punctuation trimmed.

Comparing every pair is quadratic, so MinHash signatures in an LSH index propose candidates, and
each candidate pair's Jaccard is then computed exactly: MinHash never decides. A pair of
similarity s shares at least one of ``b`` bands of ``r`` rows with probability
1 - (1 - s^r)^b; :func:`lsh_params` picks the fewest-candidate split of the signature whose
probability of missing a pair at the threshold is at most 1e-6 (at 0.8 with 128 permutations:
32 bands of 4 rows, miss probability 5e-8 at 0.8 and 6e-11 at 0.85). The index keeps one
signature per text; the texts themselves are read back through ``text_of`` when a candidate
needs checking (the export reads them from the archive), or kept in memory without it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable

from datasketch import MinHash, MinHashLSH

from crawler.text import spaced_words

__all__ = ["NearDuplicateIndex", "candidate_miss_probability", "jaccard", "lsh_params", "shingles"]

SHINGLE_WORDS = 5
NUM_PERM = 128
# Largest acceptable probability that a pair at the threshold is never proposed as a candidate.
MAX_MISS = 1e-6


def jaccard(a: set[bytes] | frozenset[bytes], b: set[bytes] | frozenset[bytes]) -> float:
    """|a ∩ b| / |a ∪ b| (0.0 for two empty sets)."""
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def candidate_miss_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that LSH with ``bands`` bands of ``rows`` rows misses a pair of ``similarity``."""
    return float((1.0 - similarity**rows) ** bands)


def lsh_params(threshold: float, num_perm: int = NUM_PERM, max_miss: float = MAX_MISS) -> tuple[int, int]:
    """(bands, rows) for ``threshold``: the most rows per band (fewest false candidates) whose
    miss probability at the threshold stays below ``max_miss``; one row per band at the least."""
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if candidate_miss_probability(threshold, bands, rows) <= max_miss:
            return bands, rows
    return num_perm, 1


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    """The set of ``size``-word shingles of ``text`` (the whole text as one when shorter)."""
    words = spaced_words(text)
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


def _short_hash(data: bytes) -> bytes:
    # LSH band keys: 8 bytes are plenty and keep the index small.
    return hashlib.blake2b(data, digest_size=8).digest()


class NearDuplicateIndex:
    """Remembers texts and says whether a new one is a near-duplicate of one seen before.

    ``text_of(key)`` gives back the text added under ``key`` (to check a candidate exactly);
    without it the index keeps the shingles of every text it added. ``checked`` counts the
    candidate pairs compared exactly.
    """

    def __init__(
        self,
        threshold: float = 0.8,
        num_perm: int = NUM_PERM,
        text_of: Callable[[Hashable], str] | None = None,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self.num_perm = num_perm
        self.bands, self.rows = lsh_params(threshold, num_perm)
        self.lsh = MinHashLSH(num_perm=num_perm, params=(self.bands, self.rows), hashfunc=_short_hash)
        self.text_of = text_of
        self._shingles: dict[Hashable, frozenset[bytes]] = {}
        self.checked = 0

    def signature(self, grams: set[bytes]) -> MinHash:
        """The MinHash of a set of shingles."""
        m = MinHash(num_perm=self.num_perm, seed=1)
        if grams:
            m.update_batch(list(grams))
        return m

    def _shingles_of(self, key: Hashable) -> frozenset[bytes]:
        if self.text_of is None:
            return self._shingles[key]
        return frozenset(shingles(self.text_of(key)))

    def seen_or_add(self, key: Hashable, text: str) -> bool:
        """True when ``text`` nearly duplicates a text added before; otherwise add it and return False."""
        grams = shingles(text)
        if not grams:  # no words: nothing to compare
            return False
        m = self.signature(grams)
        for candidate in self.lsh.query(m):
            self.checked += 1
            if jaccard(grams, self._shingles_of(candidate)) >= self.threshold:
                return True
        self.lsh.insert(key, m, check_duplication=False)
        if self.text_of is None:
            self._shingles[key] = frozenset(grams)
        return False
