"""Language tagging of clean text: langdetect (fixed seed) first, py3langid and the page's declared
language where langdetect is unsure or does not know the language.

``detect_language`` returns ``(lang, confidence, source)`` with ``lang`` an ISO 639-1 code and
``source`` naming what decided: ``langdetect``, ``langid``, ``declared``, or ``langdetect+declared``
style pairs when two sources agreed. Text too short to tell gives ``(None, None, None)``.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
from typing import Any

__all__ = ["LANGDETECT_LANGS", "MIN_LETTERS", "detect_language", "normalise_lang"]

logger = logging.getLogger(__name__)

# Fewer letters than this and we do not guess.
MIN_LETTERS = 40
# Only this much text is looked at: langdetect's cost grows with the text, and four hundred
# characters of running text are enough to tell a language; py3langid is cheap and reads more.
LANGDETECT_CHARS = 400
MAX_CHARS = 3000
# langdetect averages this many random trials (its default is 7); on running text they agree.
N_TRIALS = 4

LANGDETECT_LANGS: frozenset[str] = frozenset(
    [
        "af",
        "ar",
        "bg",
        "bn",
        "ca",
        "cs",
        "cy",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "fa",
        "fi",
        "fr",
        "gu",
        "he",
        "hi",
        "hr",
        "hu",
        "id",
        "it",
        "ja",
        "kn",
        "ko",
        "lt",
        "lv",
        "mk",
        "ml",
        "mr",
        "ne",
        "nl",
        "nb",
        "pa",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "so",
        "sq",
        "sv",
        "sw",
        "ta",
        "te",
        "th",
        "tl",
        "tr",
        "uk",
        "ur",
        "vi",
        "zh",
    ]
)

# Languages that detectors confuse with each other; within a group the declared language wins.
_CLOSE_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"id", "ms"}),
    frozenset({"no", "nb", "nn", "da", "sv"}),
    frozenset({"hr", "sr", "bs", "sl", "sh", "cnr"}),
    frozenset({"zu", "xh", "sw", "nr", "ss", "nso", "st", "tn"}),
    frozenset({"hi", "mr", "ne"}),
    frozenset({"cs", "sk"}),
    frozenset({"es", "gl", "ca", "pt"}),
    frozenset({"af", "nl"}),
    frozenset({"ru", "uk", "be", "bg", "mk"}),
    frozenset({"fa", "ur", "ar", "ps"}),
)

# Old or regional codes to the ISO 639-1 code we store. Norwegian text is tagged Bokmål, its
# usual written form, unless the page says Nynorsk.
_ALIASES = {
    "iw": "he",
    "in": "id",
    "ji": "yi",
    "jw": "jv",
    "zh-cn": "zh",
    "zh-tw": "zh",
    "fil": "tl",
    "no": "nb",
}

_lock = threading.Lock()
_detectors: dict[str, Any] = {}
_LETTER_RE = re.compile(r"[^\W\d_]", re.UNICODE)


def normalise_lang(code: str | None) -> str | None:
    """ISO 639-1 code from a declared tag like ``en-GB``, ``pt_BR``, ``zh-CN`` or ``iw``."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-")
    if code in _ALIASES:
        return _ALIASES[code]
    primary = code.split("-", 1)[0]
    primary = _ALIASES.get(primary, primary)
    if not re.fullmatch(r"[a-z]{2,3}", primary):
        return None
    return primary


def _langdetect_factory() -> Any:
    with _lock:
        if "langdetect" not in _detectors:
            from langdetect import detector_factory

            detector_factory.init_factory()
            _detectors["langdetect"] = detector_factory._factory
        return _detectors["langdetect"]


def _langid() -> Any:
    with _lock:
        if "langid" not in _detectors:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _detectors["langid"] = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _detectors["langid"]


def langdetect_probs(text: str) -> list[tuple[str, float]]:
    """langdetect's ranked guesses, deterministic (seed 0), codes normalised; [] when it cannot tell."""
    from langdetect.lang_detect_exception import LangDetectException

    from crawler.langdetect_fast import FastDetector

    detector = FastDetector(_langdetect_factory())  # langdetect's Detector, same results, faster
    detector.seed = 0
    detector.n_trial = N_TRIALS
    detector.append(text)
    try:
        probs = detector.get_probabilities()
    except LangDetectException:
        return []
    merged: dict[str, float] = {}
    for p in probs:
        code = normalise_lang(p.lang) or p.lang
        merged[code] = merged.get(code, 0.0) + p.prob
    return sorted(merged.items(), key=lambda kv: -kv[1])


def langid_guess(text: str) -> tuple[str | None, float]:
    """py3langid's best guess and its normalised probability."""
    lang, prob = _langid().classify(text)
    code = normalise_lang(lang)
    if code == "zxx":
        return None, 0.0
    return code, float(prob)


def _has_unknown_neighbours(lang: str) -> bool:
    """Whether ``lang`` is close to a language langdetect does not know (sw ~ zu/xh, id ~ ms)."""
    return any(lang in g and g - LANGDETECT_LANGS for g in _CLOSE_GROUPS)


def _close(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    return any(a in g and b in g for g in _CLOSE_GROUPS)


def detect_language(text: str, declared: str | None = None) -> tuple[str | None, float | None, str | None]:
    """Tag ``text`` with its language: ``(lang, confidence, source)`` or ``(None, None, None)``.

    langdetect (fixed seed) decides when it is sure; where it is unsure, or the text is in a language
    langdetect lacks (Zulu, Xhosa, Malay...), py3langid and the declared language are weighed in.
    """
    if not text:
        return None, None, None
    sample = text[:MAX_CHARS]
    # Stop counting at MIN_LETTERS: no list of every letter of the sample.
    if sum(1 for _ in itertools.islice(_LETTER_RE.finditer(sample), MIN_LETTERS)) < MIN_LETTERS:
        return None, None, None
    declared = normalise_lang(declared)

    ld = langdetect_probs(sample[:LANGDETECT_CHARS])
    ld_lang, ld_prob = ld[0] if ld else (None, 0.0)
    # Sure, confirmed by the page, and not a language with unknown neighbours: no second opinion needed.
    if ld_lang and ld_lang == declared and ld_prob >= 0.9 and not _has_unknown_neighbours(ld_lang):
        return ld_lang, ld_prob, "langdetect+declared"
    li_lang, li_prob = langid_guess(sample)

    # Both detectors and/or the page agree: the easy case.
    if ld_lang and ld_lang == declared:
        return ld_lang, ld_prob, "langdetect+declared"
    if ld_lang and ld_lang == li_lang and ld_prob >= 0.5:
        # A declared language close to what both detectors say (ms vs id, nb vs no) is more specific.
        if (
            declared
            and declared != ld_lang
            and _close(declared, ld_lang)
            and declared not in LANGDETECT_LANGS
        ):
            return declared, ld_prob, "declared"
        return ld_lang, ld_prob, "langdetect"
    # The page declares a language that langid confirms and langdetect does not know or is close to.
    if (
        declared
        and li_lang == declared
        and (declared not in LANGDETECT_LANGS or _close(ld_lang, declared) or ld_prob < 0.9)
    ):
        return declared, li_prob, "langid+declared"
    # langdetect lacks the language: langid, when sure, is the better judge.
    if li_lang and li_lang not in LANGDETECT_LANGS and li_prob >= 0.9 and _close(li_lang, ld_lang):
        return li_lang, li_prob, "langid"
    if declared and _close(declared, ld_lang) and ld_prob < 0.99:
        return declared, ld_prob, "declared"
    if ld_lang and ld_prob >= 0.7:
        return ld_lang, ld_prob, "langdetect"
    if li_lang and li_prob >= 0.7:
        return li_lang, li_prob, "langid"
    if ld_lang:
        return ld_lang, ld_prob, "langdetect"
    return None, None, None
