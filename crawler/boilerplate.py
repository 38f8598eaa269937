"""Rule-based second pass over extracted text: drop boilerplate lines trafilatura left in.

The pass works on :class:`Block` objects (one paragraph, subheading or list item each, with how much of
its text was link text). A block is removed only as a whole: a known boilerplate line ("Share this
article", "यह भी पढ़ें- ..."), a line that is mostly links, a teaser/link list, or the link list that
follows a "Latest Videos"/"Related" heading. An article sentence that merely contains such words stays.
Lines are compared by :func:`crawler.text.normalise_line` (re-exported here).
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from crawler.text import LINE_SEPARATORS, normalise_line, word_count, word_run_count

__all__ = [
    "BOILERPLATE_LINES",
    "BOILERPLATE_PREFIXES",
    "CALL_PREFIXES",
    "END_MARKERS",
    "NOTICE_PREFIXES",
    "SECTION_MARKERS",
    "Block",
    "clean_blocks",
    "is_boilerplate_line",
    "is_chrome_line",
    "is_site_line",
    "normalise_line",
    "site_lines_of",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Block:
    """One line of extracted text with what the extractor knew about it."""

    text: str
    kind: str = "p"  # p, head, item, quote, cell, code
    link_chars: int = 0  # characters of the text that sat inside links
    group: int = -1  # blocks of the same list/table share a group id

    @property
    def link_ratio(self) -> float:
        n = len(self.text.strip())
        return self.link_chars / n if n else 0.0


def _split(*groups: str) -> tuple[str, ...]:
    return tuple(item for group in groups for item in group.split("|") if item)


# Whole lines that are boilerplate wherever they appear (compared after normalise_line()).
BOILERPLATE_LINES: frozenset[str] = frozenset(
    _split(
        # English
        "latest videos|latest video|videos|video|watch|watch video|watch the video|share this article"
        "|share this story|share this|share|share on facebook|share on twitter|share on whatsapp"
        "|share via email|share article|tweet|email|print|copy link|link copied|click me|click here"
        "|advertisement|advertising|sponsored|sponsored content|related|related articles|related stories"
        "|related news|related content|related posts|related topics|recommended|recommended for you"
        "|you may also like|you might also like|more from|more stories|more news|top stories|most read"
        "|most popular|trending|trending now|also read|read more|read also|see also|follow us"
        "|follow us on|subscribe|subscribe now|sign up|newsletter|sign up for our newsletter|comments"
        "|leave a comment|show comments|load comments|skip to content|skip to main content|back to top"
        "|scroll to continue with content|story continues below advertisement|article continues below"
        "|continue reading|continue reading below|reading time|listen to this article|listen"
        "|all rights reserved|image|photo|getty images|next article|previous article|next|previous|topics"
        "|tags|more on this story|explore more|don't miss|read next|up next|print article|order reprints"
        "|tell us what you think|an error has occurred, please try again later|partner news|partner content"
        "|from our partners|embed",
        # Hindi
        "यह भी पढ़ें|ये भी पढ़ें|इसे भी पढ़ें|ये भी पढ़े|यह भी पढ़े|और पढ़ें|लेटेस्ट वीडियो|शेयर करें"
        "|वीडियो|टॉप स्टोरीज|संबंधित खबरें|लेटेस्ट न्यूज़|ताजा खबरें",
        # German
        "lesen sie auch|auch interessant|mehr zum thema|weitere artikel|artikel teilen|teilen|anzeige"
        "|werbung|das könnte sie auch interessieren|mehr lesen|weiterlesen|zum thema|empfehlungen"
        "|newsletter abonnieren|kommentare|videos|meistgelesen",
        # French
        "lire aussi|à lire aussi|a lire aussi|lire la suite|partager|partager cet article|publicité"
        "|sur le même sujet|à voir aussi|vidéos|dernières vidéos|suivez-nous",
        # Spanish / Portuguese / Italian
        "lee también|leer más|te puede interesar|comparte este artículo|compartir|publicidad"
        "|noticias relacionadas|últimos vídeos|síguenos|leia também|leia mais|compartilhe|publicidade"
        "|leggi anche|condividi|pubblicità|ultimi video",
        # Dutch / Scandinavian
        "lees ook|lees meer|delen|advertentie|les også|les mer|del artikkelen|annonse|läs också|läs mer"
        "|dela|annons|læs også|læs mere|del artiklen",
        # Russian / Ukrainian / Polish / Turkish
        "читайте также|читать далее|поделиться|реклама|смотрите также|видео|читайте також|поділитися"
        "|czytaj także|czytaj też|czytaj więcej|udostępnij|reklama|ayrıca okuyun|ilginizi çekebilir"
        "|paylaş|reklam|devamını oku",
        # Arabic / Persian / Urdu
        "اقرأ أيضا|اقرأ أيضاً|شارك|شارك المقال|إعلان|اقرأ المزيد|همچنین بخوانید|یہ بھی پڑھیں",
        # Indonesian / Malay
        "baca juga|baca selengkapnya|bagikan|iklan|artikel berkaitan",
        # Japanese / Chinese / Korean
        "関連記事|あわせて読みたい|シェア|広告|相关阅读|相关新闻|分享|广告|관련기사|공유하기|광고",
        # Bengali / Tamil / other Indic
        "আরও পড়ুন|এটাও পড়ুন|மேலும் படிக்க|हे पण वाचा|આ પણ વાંચો",
    )
)

# Calls to action: a short line (at most CALL_MAX_WORDS words) starting with one is boilerplate
# whatever follows ("Follow us on Twitter", "Sign up for our daily briefing").
CALL_PREFIXES: tuple[str, ...] = _split(
    "follow us|sign up for|sign up to|subscribe to|click here|join our|download our|get our|"
    "like us on|folgen sie uns|abonnieren sie|suivez-nous|abonnez-vous|síguenos|suscríbete|seguici|"
    "हमें फॉलो करें|हमें फेसबुक|подписывайтесь|подпишитесь|تابعونا|ikuti kami",
)
CALL_MAX_WORDS = 12
# "Follow The Courier on Google News and ...": a call to follow a named account on a platform.
_FOLLOW_RE = re.compile(
    r"^(?:follow|folgen sie|suivez|siga|segui)\s+(?:[\w'’&.-]+\s+){1,4}(?:on|auf|sur|en|no|su)\s+"
    r"(?:google news|twitter|x|facebook|instagram|linkedin|whatsapp|telegram|youtube|tiktok|threads|bluesky)\b"
)
# Donation appeals, embed-consent boxes, browser notices: boilerplate up to NOTICE_MAX_WORDS words.
NOTICE_PREFIXES: tuple[str, ...] = _split(
    "hat ihnen dieser artikel gefallen|wie hat ihnen dieser artikel gefallen|how did you like this article|"
    "was this article helpful|did you find this article|support our journalism|support independent journalism|"
    "unabhängiger journalismus braucht|empfohlener redaktioneller inhalt|"
    "an dieser stelle finden sie einen|ich bin damit einverstanden, dass mir|"
    "thank you for visiting|you are using a browser|enable javascript|"
    "to continue reading|continue reading with|this copy is for your personal, non-commercial use|"
    "this is a breaking news story|this story is breaking|like this story? share it|fehler gefunden?|"
    "durchschnittliche bewertung:|additional reporting by|additional reporting from",
)
NOTICE_MAX_WORDS = 60

# A prefixed line of more words than this is a paragraph that opens with the prefix, not a headline.
PREFIX_MAX_WORDS = 40
# Prefixes that mark a whole line as boilerplate when a separator follows them ("Also read: ...").
BOILERPLATE_PREFIXES: tuple[str, ...] = _split(
    "also read|read also|read more|more:|related:|see also|follow us on|watch:|click here to|filed under"
    "|sign up for|subscribe to our|यह भी पढ़ें|ये भी पढ़ें|ये भी पढ़े|यह भी पढ़े|इसे भी पढ़ें"
    "|और पढ़ें|lesen sie auch|lesen sie mehr|mehr zum thema|auch interessant|lire aussi|à lire aussi"
    "|a lire aussi|lee también|leer más|leia também|leia mais|leggi anche|lees ook|les også|läs också"
    "|læs også|читайте также|читайте також|смотрите также|czytaj także|czytaj też|ayrıca okuyun"
    "|اقرأ أيضا|اقرأ أيضاً|baca juga|関連記事|相关阅读|আরও পড়ুন|یہ بھی پڑھیں",
)

# Headings that open a run of teaser/video links rather than article text.
SECTION_MARKERS: frozenset[str] = frozenset(
    _split(
        "latest videos|latest video|videos|video|related|related articles|related stories|related news"
        "|recommended|more stories|more news|top stories|most read|most popular|trending|trending now"
        "|you may also like|you might also like|more from|read next|up next|don't miss|लेटेस्ट वीडियो"
        "|वीडियो|टॉप स्टोरीज|संबंधित खबरें|mehr zum thema|meistgelesen|weitere artikel|sur le même sujet"
        "|noticias relacionadas|читайте также|関連記事|相关新闻",
    )
)

# Headings after which a page has nothing more of the article: everything from such a heading on is
# dropped when it comes in the last part of the text (see clean_blocks).
END_MARKERS: frozenset[str] = frozenset(
    _split(
        "related articles|related stories|related news|related content|related posts|more from|"
        "more stories|more news|recommended for you|you may also like|you might also like|"
        "comments|leave a comment|leave a reply|join the conversation|"
        "ähnliche|ähnliche artikel|ähnliche themen|das könnte sie auch interessieren|kommentar abgeben|kommentare|"
        "weitere artikel|dans la même rubrique|noticias relacionadas|articoli correlati|похожие новости|"
        "相关新闻|संबंधित खबरें",
    )
)
# An end marker counts only after this share of the text's characters.
END_MARKER_AFTER = 0.5


def _norm_set(lines: Iterable[str]) -> frozenset[str]:
    if isinstance(lines, frozenset):
        return _norm_frozen(lines)
    return frozenset(n for n in (normalise_line(x) for x in lines) if n)


@functools.lru_cache(maxsize=64)
def _norm_frozen(lines: frozenset[str]) -> frozenset[str]:
    # The same learned set comes with every page of a site: normalise it once.
    return frozenset(n for n in (normalise_line(x) for x in lines) if n)


def is_site_line(line: str, site_lines: frozenset[str]) -> bool:
    """Whether ``line`` is one of the learned ``site_lines`` (compared normalised)."""
    return normalise_line(line) in _norm_set(site_lines)


def site_lines_of(text: str, max_chars: int = 1000) -> list[str]:
    """The distinct normalised lines of a clean text, as counted for per-site learning
    (``archive.boilerplate.record_lines``) and matched by ``clean_blocks(site_lines=...)``."""
    seen: dict[str, None] = {}
    for raw in text.splitlines():
        norm = normalise_line(raw)
        if norm and len(norm) <= max_chars:
            seen.setdefault(norm)
    return list(seen)


_LINES = _norm_set(BOILERPLATE_LINES)
_MARKERS = _norm_set(SECTION_MARKERS)
_PREFIXES = tuple(sorted({normalise_line(p) for p in BOILERPLATE_PREFIXES}))
_ENDS = _norm_set(END_MARKERS)
_CALLS = tuple(normalise_line(p) for p in CALL_PREFIXES)
_NOTICES = tuple(normalise_line(p) for p in NOTICE_PREFIXES)


def _has_prefix(norm: str, prefixes: Sequence[str]) -> bool:
    if not norm.startswith(tuple(prefixes)):
        return False
    for prefix in prefixes:
        if norm.startswith(prefix):
            rest = norm[len(prefix) :]
            # The prefix must end at a separator ("Also read: ...", "यह भी पढ़ें- ...") so that an
            # article sentence starting with the same words ("Read more books ...") stays.
            if not rest or rest[0] in LINE_SEPARATORS or rest.lstrip()[:1] in tuple(LINE_SEPARATORS):
                return True
    return False


def is_boilerplate_line(
    line: str,
    extra_lines: frozenset[str] = frozenset(),
    extra_prefixes: Sequence[str] = (),
) -> bool:
    """True when the whole line is a known boilerplate line or starts with a boilerplate prefix."""
    return _is_boilerplate_norm(normalise_line(line), extra_lines, extra_prefixes)


def _is_boilerplate_norm(norm: str, extra_lines: frozenset[str], extra_prefixes: Sequence[str]) -> bool:
    if not norm:
        return True
    if norm in _LINES or norm in extra_lines:
        return True
    if norm.startswith(_CALLS) and word_run_count(norm) <= CALL_MAX_WORDS:
        return True
    if _FOLLOW_RE.match(norm) and word_run_count(norm) <= 2 * CALL_MAX_WORDS:
        return True
    if norm.startswith(_NOTICES) and word_run_count(norm) <= NOTICE_MAX_WORDS:
        return True
    prefixed = _has_prefix(norm, _PREFIXES) or bool(extra_prefixes and _has_prefix(norm, extra_prefixes))
    return prefixed and word_count(norm) <= PREFIX_MAX_WORDS


_MONTHS = (
    "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july|august|"
    "september|october|november|december|januar|februar|märz|mai|juni|juli|oktober|dezember|janvier|"
    "février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|"
    "mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|"
    "luglio|settembre|ottobre|dicembre|mon|tue|wed|thu|fri|sat|sun|monday|tuesday|wednesday|thursday|"
    "friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
)
_DATE_WORDS = (
    "published|updated|posted|last|modified|on|at|am|pm|um|uhr|stand|veröffentlicht|aktualisiert|"
    "zuletzt|publié|mis|à|jour|le|publicado|actualizado|el|pubblicato|aggiornato|il|alle|ore|gmt|utc|"
    "cet|cest|est|edt|pst|pdt|bst|ist|amt|msk|jst|ago|hours|hour|minutes|min|mins|days|day|"
    "vor|stunden|minuten|tagen|read|lesezeit|reading|time|uppdaterad|publicerad|oppdatert|publisert|"
    "ausgabe|vom|seite|page|edition|issue|"
    "opdateret|udgivet|bijgewerkt|gepubliceerd|actualizado|atualizado|publicada|aggiornamento|"
    "обновлено|опубликовано|" + _MONTHS
)
_DATE_LINE_RE = re.compile(rf"^(?:[\W\d_]|\b(?:{_DATE_WORDS})\b)+$", re.IGNORECASE)
_BYLINE_RE = re.compile(
    r"^(?:by|von|par|por|di|door|av|af|от|oleh|written by|text|texto|reporting by|auteur)\s*:?\s+"
    r"(?:[\w'’.-]+\s*){1,6}(?:(?:,|\band\b|\bund\b|\bet\b|\by\b|&)\s*(?:[\w'’.-]+\s*){1,4})*$",
    re.IGNORECASE,
)
_NAME_PARTICLES = frozenset(
    [
        "and",
        "und",
        "et",
        "y",
        "e",
        "i",
        "&",
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "da",
        "di",
        "du",
        "le",
        "la",
        "al",
        "bin",
        "ibn",
        "zu",
        "text",
        "by",
    ]
)
_CREDIT_RE = re.compile(
    r"^(?:photo|foto|image|bild|picture|credit|source|quelle|fotos?|bildquelle|crédit|photos?)\s*(?::|by|von)\s*\S",
    re.IGNORECASE,
)
_URL_LINE_RE = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_CONTRIBUTED_RE = re.compile(r"\bcontributed (?:reporting|to this (?:report|article|story))\b", re.IGNORECASE)
_AGO_RE = re.compile(r"\d+\s*(?:mins?|minutes?|hours?|hrs?|days?)\s+ago$", re.IGNORECASE)
# "showPaywall:", "false", "isSubscriber: true": a script's settings as text (camelCase keys, literals).
_CODE_LINE_RE = re.compile(
    r"^(?:[a-z]+(?:[A-Z][a-z0-9]*)+\s*:\s*(?:true|false|null|undefined|\d+)?|true|false|null|undefined)$"
)
# "[button link=...] Send us your review[/button]": a WordPress-style shortcode left in the text.
_SHORTCODE_RE = re.compile(r"^\[(\w+)\b[^\]]*\].*\[/\1\]$")
_COPYRIGHT_RE = re.compile(r"^(?:©|\(c\)|copyright\b)", re.IGNORECASE)


# Words of sign-up boxes, paywalls and comment widgets. One short line carrying one may be article text
# ("Readers can subscribe for free"); two or more close together are a widget.
_PROMO_RE = re.compile(
    r"newsletter|sign(?:ing)? ?up\b|subscri(?:be|ption|ber)|your inbox|privacy policy|terms (?:and|&) conditions|"
    r"terms of (?:use|service)|log ?in\b|logout|create an account|free trial|already a member|commenting|"
    r"abonn|anmelden|datenschutz|registrier|kostenlos testen|inscri|suscr|iscriviti|assine|подпис|рассылк|"
    r"有料会員|会員限定|有料記事|会員登録|ログイン|付费|订阅|구독",
    re.IGNORECASE,
)
PROMO_MAX_WORDS = 20
PROMO_WINDOW = 3


def _promo_widgets(blocks: Sequence[Block]) -> set[int]:
    """Indexes of blocks that form a sign-up/paywall/comment widget: promo lines with at most a few
    short lines between them."""
    promo = [
        i
        for i, b in enumerate(blocks)
        if word_run_count(b.text, PROMO_MAX_WORDS + 1) <= PROMO_MAX_WORDS and _PROMO_RE.search(b.text)
    ]
    drop: set[int] = set()
    for i in promo:
        # One short line carrying two different promo words is a widget by itself
        # ("Log in or create an account to continue").
        if len({m.group(0).casefold() for m in _PROMO_RE.finditer(blocks[i].text)}) >= 2:
            drop.add(i)
    for a, b in itertools.pairwise(promo):
        between = range(a + 1, b)
        if b - a <= PROMO_WINDOW and all(word_run_count(blocks[i].text, 13) <= 12 for i in between):
            drop.update((a, b, *between))
    return drop


def is_chrome_line(text: str) -> bool:
    """A line of page furniture rather than article text: a bare date, a byline, a photo credit,
    a copyright notice. Only short lines qualify; sentences stay."""
    words = word_run_count(text, 26)  # every test below is of at most 25 words
    stripped = text.strip()
    if (
        words <= 25
        and stripped.count(" | ") >= 3
        and not stripped.startswith("|")
        and stripped[-1] not in ".!?|"
    ):
        return True  # "News | Politics | 28 April 2023 | 10:00": labels between pipes
    if not any(ch.isalnum() for ch in stripped.replace("_", "")):
        return True  # "___", "* * *": a rule drawn with characters
    if words <= 20 and _CONTRIBUTED_RE.search(stripped):
        return True  # "Jane Doe contributed reporting from Hong Kong."
    if words <= 8 and _AGO_RE.search(stripped):
        return True  # "Jane Doe 2 hours ago": a live-blog entry's author and time
    if _CODE_LINE_RE.match(stripped.removeprefix("- ")) or _SHORTCODE_RE.match(stripped):
        return True  # a page script's settings or a CMS shortcode leaking into the text
    if words > 14:
        return False
    if _DATE_LINE_RE.match(stripped) and any(ch.isdigit() for ch in stripped):
        return True
    if words <= 9 and _BYLINE_RE.match(stripped) and not stripped.endswith((".", "!", "?", ":")):
        # Names only: every word after the first is capitalised or a name particle.
        rest = stripped.split(None, 1)[1] if " " in stripped else ""
        if all(
            w[:1].isupper() or w.casefold() in _NAME_PARTICLES for w in re.findall(r"[^\W\d_][\w'’.-]*", rest)
        ):
            return True
    if words <= 10 and _CREDIT_RE.match(stripped):
        return True
    if _URL_LINE_RE.match(stripped) or (words <= 14 and _EMAIL_RE.search(stripped)):
        return True  # a bare address, "Write to the author at name@example.com"
    return bool(_COPYRIGHT_RE.match(stripped))


def _mostly_links(block: Block, threshold: float) -> bool:
    return block.link_chars > 0 and block.link_ratio >= threshold


def clean_blocks(
    blocks: Sequence[Block],
    *,
    extra_lines: Iterable[str] = (),
    extra_prefixes: Iterable[str] = (),
    site_lines: Iterable[str] = (),
    link_ratio: float = 0.75,
) -> list[Block]:
    """Remove boilerplate blocks; every survivor is returned unchanged and in order.

    ``extra_lines``/``extra_prefixes`` extend the built-in lists; ``site_lines`` are lines learned
    as boilerplate of this site (compared normalised, as whole lines only).
    """
    lines = _norm_set(extra_lines) | _norm_set(site_lines)
    prefixes = tuple(normalise_line(p) for p in extra_prefixes if normalise_line(p))

    # Teaser/link lists: a list or table whose items are mostly links as a whole.
    group_links: dict[int, list[int]] = {}
    for b in blocks:
        if b.group >= 0:
            acc = group_links.setdefault(b.group, [0, 0, 0])
            acc[0] += b.link_chars
            acc[1] += len(b.text.strip())
            acc[2] += 1
    link_groups = {g for g, (lc, n, count) in group_links.items() if n and count >= 2 and lc / n >= 0.6}

    # A "Related articles"/"Comments" heading late in the text ends the article.
    total = sum(len(b.text) for b in blocks) or 1
    seen = 0
    end = len(blocks)
    for i, b in enumerate(blocks):
        if (
            seen >= END_MARKER_AFTER * total
            and normalise_line(b.text) in _ENDS
            and word_run_count(b.text, 7) <= 6
        ):
            end = i
            break
        seen += len(b.text)
    blocks = blocks[:end]

    widgets = _promo_widgets(blocks)
    kept: list[Block] = []
    in_teasers = False
    for i, b in enumerate(blocks):
        if i in widgets:
            continue
        text = b.text.strip()
        norm = normalise_line(text)
        if not norm:
            continue
        if norm in _MARKERS:
            # "Latest Videos", "Related": drop the marker and the links that follow it.
            in_teasers = True
            continue
        if in_teasers:
            if _mostly_links(b, 0.5) or (b.kind == "item" and word_run_count(text, 26) <= 25):
                continue
            in_teasers = False
        if b.group in link_groups:
            continue
        if _is_boilerplate_norm(norm, lines, prefixes):
            continue
        if _mostly_links(b, link_ratio):
            continue
        if b.kind != "cell" and is_chrome_line(text):
            continue
        kept.append(b if text is b.text else replace(b, text=text))
    return kept
