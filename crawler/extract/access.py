"""Whether the page gives the whole article: ``access`` (``free``, ``paywalled`` or ``unknown``) from the
page's JSON-LD paywall markup (``isAccessibleForFree``, ``hasPart`` blocks with a ``cssSelector`` that
are not free), and ``truncated`` when the extracted text is visibly less than the article: the page
declares a JSON-LD ``wordCount`` well above what was extracted, or the page's text right after the body
is a paywall prompt ("Subscribe to continue reading", "Jetzt weiterlesen mit ...")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from crawler.extract.metadata import PageMeta
from crawler.text import word_count

__all__ = ["FREE", "PAYWALLED", "TRUNCATED_RATIO", "UNKNOWN", "Access", "page_access", "paywall_prompt"]

FREE, PAYWALLED, UNKNOWN = "free", "paywalled", "unknown"
# The declared word count is this many times the extracted one (or more): the text is cut.
TRUNCATED_RATIO = 1.5
# Only a prompt this short is a prompt (a paragraph mentioning subscriptions is text).
_PROMPT_MAX_WORDS = 40

_PROMPT_RE = re.compile(
    r"subscribe to (?:continue|read|keep)|(?:continue|keep) reading|to read (?:the full|this|more)|"
    r"for subscribers|subscribers only|already a subscriber|sign in to (?:continue|read)|"
    r"log ?in to (?:continue|read)|unlock (?:this|the full)|this (?:article|content) is (?:for|exclusive)|"
    r"premium (?:article|content)|become a (?:member|subscriber)|"
    r"weiterlesen mit|jetzt (?:weiter)?lesen|abo abschließen|mit (?:einem )?abo|für abonnenten|"
    r"artikel (?:ist )?(?:nur )?für|plus-artikel|exklusiv für|"
    r"réservé aux abonnés|pour lire la suite|abonnez-vous pour|déjà abonné|"
    r"contenido (?:exclusivo|para suscriptores)|para seguir leyendo|ya eres suscriptor|"
    r"riservato agli abbonati|per continuare a leggere|già abbonato|"
    r"alleen voor abonnees|lees verder met|"
    r"для подписчиков|продолжение доступно",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Access:
    """Paywall markup and truncation of one page."""

    access: str = UNKNOWN
    truncated: bool = False


def paywall_prompt(lines: Sequence[str]) -> bool:
    """Whether one of ``lines`` (the page's text after the body) is a short paywall prompt."""
    return any(word_count(line) <= _PROMPT_MAX_WORDS and _PROMPT_RE.search(line) for line in lines)


def page_access(meta: PageMeta, words: int, after_body: Sequence[str]) -> Access:
    """``access`` and ``truncated`` for a page whose extracted text has ``words`` words and whose text
    after the body (before boilerplate was dropped) is ``after_body``."""
    if meta.ld_free is False or meta.ld_paywalled_part:
        access = PAYWALLED
    elif meta.ld_free is True:
        access = FREE
    else:
        access = UNKNOWN
    declared = meta.ld_word_count
    truncated = bool(declared and declared > TRUNCATED_RATIO * max(words, 1)) or paywall_prompt(after_body)
    return Access(access=access, truncated=truncated)
