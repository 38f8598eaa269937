"""Tests of crawler.text: the one definition of words, line keys and invisible characters, and the
differences between its variants that the modules using them rely on."""

from __future__ import annotations

import subprocess
import sys

from crawler.text import (
    clean_text,
    folded_words,
    line_key,
    normalise_line,
    spaced_words,
    word_count,
    word_run_count,
)

HINDI = "ममता से मिले अखिलेश"


def test_words_keep_combining_marks_where_runs_split_at_them() -> None:
    assert word_count(HINDI) == 4
    assert folded_words("Don't STOP") == ["don", "t", "stop"]
    # A bare \w+ run ends at a vowel sign: the boilerplate thresholds count more "words" in Hindi.
    assert word_run_count(HINDI) > 4
    assert word_run_count("one two three four five", cap=3) == 3
    assert word_run_count("one two", cap=3) == 2


def test_spaced_words_are_whole_whitespace_tokens_without_punctuation() -> None:
    assert spaced_words("Don't STOP, ममता!") == ["dont", "stop", "ममता"]
    assert spaced_words(" -- ") == []


def test_clean_text_keeps_joiners_and_line_keys_drop_them() -> None:
    zwnj = "\u200c"
    word = f"می{zwnj}خواهم"  # Persian spells this word with a zero-width non-joiner
    assert clean_text(f"  {word}\u00a0\u00a0x\u200b\u200e ") == f"{word} x"
    assert zwnj not in normalise_line(word) and zwnj not in line_key(word)
    # Direction marks: gone from clean text, kept by line keys (which mostly see clean text).
    assert "\u200e" not in clean_text("a\u200eb")
    assert "\u200e" in normalise_line("a\u200eb")


def test_normalise_line_strips_outer_punctuation_and_line_key_all() -> None:
    assert normalise_line("  “Also read: Ölpreis – steigt”  ") == "also read: ölpreis – steigt"
    assert line_key("  “Also read: Ölpreis – steigt”  ") == "also read ölpreis steigt"
    # NFC: a decomposed ö is the same key as a composed one.
    assert normalise_line("O\u0308l") == normalise_line("Öl") == line_key("O\u0308l")


def test_text_module_imports_only_the_standard_library() -> None:
    # archive/ uses crawler.text: it must not pull in anything that archive/ may not import.
    code = (
        "import sys; before = set(sys.modules); import crawler.text; "
        "print(' '.join(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    imported = set(out.split())
    assert "crawler" in imported
    assert imported - {"crawler"} <= sys.stdlib_module_names, imported - sys.stdlib_module_names
