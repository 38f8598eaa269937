"""Near-duplicates (``export --dedup near``): the decision is the exact Jaccard similarity of the
two texts' sets of word 5-grams; MinHash only proposes the candidates, and its bands are chosen so
that a pair at or above the threshold is essentially never missed."""

from __future__ import annotations

import random

import pytest

from archive.dedup import NearDuplicateIndex, candidate_miss_probability, jaccard, lsh_params, shingles

THRESHOLD = 0.8
LEVELS = (0.70, 0.78, 0.82, 0.90, 0.97)
PAIRS = 200


def _vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return sorted({"".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(size)})


def _pair(rng: random.Random, vocab: list[str], target: float) -> tuple[str, str, float]:
    """Two texts whose word 5-grams overlap by about ``target`` (Jaccard), and the exact value.

    Each replaced word, at least 5 words from the next, removes 5 shingles of the first text and
    adds 5 of its own: with n shingles and k replacements J = (n - 5k) / (n + 5k).
    """
    words = [rng.choice(vocab) for _ in range(rng.randint(250, 600))]
    n = len(words) - 4
    k = max(1, round(n * (1 - target) / (5 * (1 + target))))
    spacing = len(words) // (k + 1)
    assert spacing >= 5
    edited = list(words)
    for i in range(1, k + 1):
        pos = i * spacing + rng.randint(-(spacing - 5) // 2, (spacing - 5) // 2)
        edited[pos] = rng.choice(vocab) + "x"  # a word no text has
    a, b = " ".join(words), " ".join(edited)
    return a, b, jaccard(shingles(a), shingles(b))


@pytest.fixture(scope="module")
def pairs() -> list[tuple[float, str, str, float]]:
    rng = random.Random(20261124)
    vocab = _vocabulary(rng)
    out = []
    for level in LEVELS:
        for _ in range(PAIRS):
            a, b, j = _pair(rng, vocab, level)
            assert abs(j - level) < 0.02
            out.append((level, a, b, j))
    return out


def _decisions(pairs: list[tuple[float, str, str, float]]) -> tuple[list, list]:
    index = NearDuplicateIndex(threshold=THRESHOLD)
    kept_above, dropped_below = [], []
    for n, (level, a, b, j) in enumerate(pairs):
        assert not index.seen_or_add(("a", n), a)
        duplicate = index.seen_or_add(("b", n), b)
        if j >= THRESHOLD and not duplicate:
            kept_above.append((level, j))
        if j < THRESHOLD and duplicate:
            dropped_below.append((level, j))
    return kept_above, dropped_below


def test_pairs_are_kept_or_dropped_by_their_exact_overlap(pairs):
    kept_above, dropped_below = _decisions(pairs)
    assert kept_above == [], f"{len(kept_above)} pairs above the threshold kept"
    assert dropped_below == [], f"{len(dropped_below)} pairs below the threshold dropped"


def test_bands_make_a_miss_at_the_threshold_negligible():
    for threshold in (0.5, 0.7, 0.8, 0.9, 0.95):
        bands, rows = lsh_params(threshold)
        assert candidate_miss_probability(threshold, bands, rows) <= 1e-6, threshold
    # At the default threshold: many bands of few rows.
    bands, rows = lsh_params(THRESHOLD)
    assert rows <= 5 and bands >= 25


def test_texts_below_and_above_with_a_lookup():
    """The index can read the earlier texts back instead of keeping them (the export does)."""
    rng = random.Random(7)
    vocab = _vocabulary(rng, 2000)
    a, b, j = _pair(rng, vocab, 0.9)
    c, d, k = _pair(rng, vocab, 0.7)
    store = {1: a, 2: c}
    index = NearDuplicateIndex(threshold=THRESHOLD, text_of=store.__getitem__)
    assert not index.seen_or_add(1, a) and not index.seen_or_add(2, c)
    assert index.seen_or_add(3, b) == (j >= THRESHOLD)
    assert index.seen_or_add(4, d) == (k >= THRESHOLD)


def test_jaccard_of_5_grams():
    a = shingles("one two three four five six")
    b = shingles("one two three four five seven")
    assert len(a) == len(b) == 2
    assert jaccard(a, b) == pytest.approx(1 / 3)
    assert jaccard(set(), set()) == 0.0


def test_export_drops_by_exact_overlap(tmp_path):
    """Through the archive: pairs just below and just above the threshold, whatever the fields."""
    from datetime import datetime

    from sqlalchemy import insert

    from archive.db import make_engine, make_sessionmaker
    from archive.export import export, join_text
    from archive.models import Article

    rng = random.Random(11)
    vocab = _vocabulary(rng, 3000)
    rows, expected, n = [], [], 0
    for level in (0.76, 0.79, 0.81, 0.84) * 5:
        a, b, _ = _pair(rng, vocab, level)
        j = jaccard(shingles(join_text("Title", None, a)), shingles(join_text("Title", None, b)))
        for body in (a, b):
            rows.append(
                {
                    "url": f"http://near.test/{n}",
                    "domain": "near.test",
                    "title": "Title",
                    "body": body,
                    "word_count": len(body.split()),
                    "lang": "en",
                    "fetched_at": datetime(2026, 1, 1),
                    "content_hash": f"h{n}",
                }
            )
            n += 1
        expected.append(f"http://near.test/{n - 2}")
        if j < THRESHOLD:
            expected.append(f"http://near.test/{n - 1}")
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with make_sessionmaker(engine).begin() as session:
        session.execute(insert(Article), rows)
    out = tmp_path / "near.csv"
    with make_sessionmaker(engine)() as session:
        stats = export(session, out, "csv", fields=("url",), dedup="near")
    engine.dispose()
    assert out.read_text().split()[1:] == expected
    assert stats.near_duplicates == len(rows) - len(expected)
    assert 5 <= stats.near_duplicates <= 15  # both sides of the threshold are there
