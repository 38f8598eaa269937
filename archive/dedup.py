"""Near-duplicate detection for exports: MinHash signatures over word shingles, in an LSH index.

Two texts are near-duplicates when the estimated Jaccard similarity of their sets of word
5-grams reaches the threshold (0.8 by default): the same story with a changed sentence, a
corrected figure or a different footer. The index keeps one small signature per text it was
given (about 0.5 KB), not the texts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable

from datasketch import MinHash, MinHashLSH

from crawler.text import spaced_words

__all__ = ["NearDuplicateIndex", "shingles"]

SHINGLE_WORDS = 5
NUM_PERM = 64


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
    """Remembers texts and says whether a new one is a near-duplicate of one seen before."""

    def __init__(self, threshold: float = 0.8, num_perm: int = NUM_PERM) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.num_perm = num_perm
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, hashfunc=_short_hash)

    def signature(self, text: str) -> MinHash:
        """The MinHash of ``text``'s shingles."""
        m = MinHash(num_perm=self.num_perm, seed=1)
        grams = shingles(text)
        if grams:
            m.update_batch(list(grams))
        return m

    def seen_or_add(self, key: Hashable, text: str) -> bool:
        """True when ``text`` nearly duplicates a text added before; otherwise add it and return False."""
        m = self.signature(text)
        if m.is_empty():  # no words: nothing to compare, and empty signatures all match each other
            return False
        if self.lsh.query(m):
            return True
        self.lsh.insert(key, m, check_duplication=False)
        return False
