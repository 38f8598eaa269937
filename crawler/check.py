"""Checking the archive against seed files: pure comparison logic, no database here.

Two kinds of seed file, told apart by their content (:func:`read_seed`):

* a **text seed** is an article as a reader saw it on the page, boilerplate included: the first
  line is the headline, then one paragraph (or subheading, or page furniture) a line. It is
  compared with the archived article it belongs to (:func:`compare`): does the title match, is the
  lede there, which seed lines are in the archived text and in order, whether each absent line looks
  like boilerplate (expected to be gone) or content (missing), and which archived text is not in the
  seed at all (leaked). The verdict is clean, missing content, out of order, leaked boilerplate or
  not archived.
* a **URL list** (one URL a line, ``#`` comments, as given to ``crawler crawl --seeds``) is checked
  for coverage (:func:`url_coverage`): archived (and when), failed (status, reason), never reached.

Lines are compared by a *key*: NFC, case-folded, punctuation and symbols turned into spaces, spaces
collapsed. So typographic quotes or a dash the extractor normalised do not count as differences;
lines that still differ a little (ratio >= 0.9) count as present, marked approximate.
The CLI (crawler.cli.check) reads the archive and calls these functions.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.reasons import SKIP_REASONS
from crawler.text import line_key
from crawler.urls import SeedFileError, looks_like_url_list, normalize, read_url_list
from crawler.wording import plural

__all__ = [
    "APPROX_RATIO",
    "ArchivedArticle",
    "FailureRecord",
    "SeedError",
    "TextReport",
    "TextSeed",
    "UrlReport",
    "UrlSeed",
    "article_shingles",
    "classify_absent",
    "compare",
    "line_key",
    "not_archived",
    "overlap",
    "read_seed",
    "render",
    "seed_shingles",
    "similarity",
    "url_coverage",
    "url_variants",
]

logger = logging.getLogger(__name__)

APPROX_RATIO = 0.9  # difflib ratio from which two lines count as the same line
MATCH_OVERLAP = 0.5  # share of an article's shingles found in a seed from which it is the seed's article
SHINGLE_WORDS = 4

CLEAN = "clean"
MISSING = "missing content"
OUT_OF_ORDER = "out of order"
LEAKED = "leaked boilerplate"
NOT_ARCHIVED = "not archived"
VERDICTS = (CLEAN, MISSING, OUT_OF_ORDER, LEAKED, NOT_ARCHIVED)

_SENTENCE_END = tuple(".!?।॥。！？؟…")
_CLOSERS = "\"'”’»)]"
_MENU_SEPARATORS = re.compile(r"\s[|•»›·]\s|\s\|$|^\|")


class SeedError(ValueError):
    """A seed file cannot be read or holds nothing to check."""


# ------------------------------------------------------------------------------------------------
# Seeds


@dataclass(frozen=True)
class TextSeed:
    """An article's text as seen on its page: the headline and the following lines."""

    path: str
    title: str
    title_line: int
    lines: tuple[tuple[int, str], ...]  # (line number in the file, text), blank lines left out


@dataclass(frozen=True)
class UrlSeed:
    """A URL list as given to ``crawler crawl --seeds``."""

    path: str
    urls: tuple[str, ...]


def read_seed(path: str | Path) -> TextSeed | UrlSeed:
    """Read a seed file and tell which kind it is: a URL list when most lines that are not
    comments are URLs (a line that is not one is then reported with its number, as ``crawl
    --seeds`` does), else an article text."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise SeedError(f"no seed file {p}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"cannot read seed file {p}: {exc}") from exc
    numbered = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not numbered:
        raise SeedError(f"seed file {p} is empty")
    if looks_like_url_list(text):
        try:
            return UrlSeed(str(p), tuple(read_url_list(p)))
        except SeedFileError as exc:
            raise SeedError(str(exc)) from exc
    (title_line, title), *rest = numbered
    return TextSeed(str(p), title, title_line, tuple(rest))


# ------------------------------------------------------------------------------------------------
# Comparing texts


def _shingles(key: str) -> set[str]:
    words = key.split()
    if len(words) <= SHINGLE_WORDS:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


@dataclass(frozen=True)
class ArchivedArticle:
    """What the check needs of an archived article."""

    id: int
    url: str
    title: str | None
    lede: str | None
    body: str
    author: str | None = None
    fetched_at: datetime | None = None

    def paragraphs(self) -> list[tuple[str, str]]:
        """(where, text) for every non-blank line of the lede and the body, in order."""
        out: list[tuple[str, str]] = []
        for where, text in (("lede", self.lede), ("body", self.body)):
            for line in (text or "").splitlines():
                if line.strip():
                    out.append((where, line.strip()))
        return out


def seed_shingles(seed: TextSeed) -> set[str]:
    """Word shingles of the whole seed text (headline included)."""
    grams: set[str] = set()
    for line in (seed.title, *(t for _, t in seed.lines)):
        grams |= _shingles(line_key(line))
    return grams


def article_shingles(article: ArchivedArticle) -> set[str]:
    """Word shingles of the archived lede and body."""
    grams: set[str] = set()
    for _, text in article.paragraphs():
        grams |= _shingles(line_key(text))
    return grams


def overlap(seed_grams: set[str], article_grams: set[str]) -> float:
    """Share of the archived text's word shingles that are in the seed (0 when nothing is shared)."""
    if not article_grams:
        return 0.0
    return len(article_grams & seed_grams) / len(article_grams)


def similarity(seed_grams: set[str], article_grams: set[str]) -> float:
    """How well an article matches a seed: F1 of shared shingles, to rank several candidates."""
    shared = len(seed_grams & article_grams)
    if not shared:
        return 0.0
    precision, recall = shared / len(article_grams), shared / len(seed_grams)
    return 2 * precision * recall / (precision + recall)


def _looks_like_prose(text: str) -> bool:
    stripped = text.rstrip().rstrip(_CLOSERS)
    return stripped.endswith(_SENTENCE_END) and len(text.split()) >= 6


# The seed check judges boilerplate by the seed's own layout, never by the extractor's rule lists,
# so that a rule that removes content shows up as missing content.
# A line of at most this many words that is no sentence is a label ("Share this article", a heading).
SHORT_LINE_WORDS = 5
# "Also read: <headline>", "यह भी पढ़ें- <headline>": a lead of at most this many words, a separator,
# then a headline of at least REFERENCE_HEADLINE_WORDS words, and no sentence.
REFERENCE_LEAD_WORDS = 3
REFERENCE_HEADLINE_WORDS = 4
_REFERENCE_RE = re.compile(r"^\s*(\S+?(?:\s+\S+?)*?)\s*[:\-–—]\s+(\S.*)$")


@dataclass(frozen=True)
class LineShape:
    """Where a seed line stands among the seed's lines: what the boilerplate judgement reads."""

    repeated: bool = False  # the same line stands elsewhere in the seed
    after_marker: str | None = None  # the heading that opened the run of teaser lines it is in
    next_is_prose: bool = False  # the next line is a sentence (so a short line is its subheading)
    marker: bool = False  # it opens a run of teaser lines ("Latest Videos" above its videos)


def _words_of(text: str) -> int:
    return len(text.split())


def seed_layout(lines: Sequence[str]) -> list[LineShape]:
    """The :class:`LineShape` of each seed line. A marker is a short line that is no sentence,
    followed by at least two lines that are no sentences either (a heading over a list of teaser
    or video titles); the run it opens lasts until the next sentence."""
    keys = [line_key(t) for t in lines]
    counts: dict[str, int] = {}
    for k in keys:
        if k:
            counts[k] = counts.get(k, 0) + 1
    prose = [_looks_like_prose(t) for t in lines]
    shapes = []
    marker: str | None = None
    for i, text in enumerate(lines):
        if prose[i]:
            marker = None
        opens = (
            not prose[i]
            and _words_of(text) <= SHORT_LINE_WORDS
            and i + 2 < len(lines)
            and not prose[i + 1]
            and not prose[i + 2]
        )
        shapes.append(
            LineShape(
                repeated=counts.get(keys[i], 0) >= 2,
                after_marker=marker if not opens else None,
                next_is_prose=i + 1 < len(lines) and prose[i + 1],
                marker=opens,
            )
        )
        if opens:
            marker = text
    return shapes


def _is_reference(text: str) -> bool:
    m = _REFERENCE_RE.match(text)
    return bool(
        m
        and _words_of(m.group(1)) <= REFERENCE_LEAD_WORDS
        and _words_of(m.group(2)) >= REFERENCE_HEADLINE_WORDS
        and not _looks_like_prose(text)
    )


def classify_absent(
    text: str,
    *,
    after_marker: str | None = None,
    author: str | None = None,
    shape: LineShape | None = None,
) -> tuple[str, str]:
    """Whether a seed line missing from the archive is boilerplate (expected) or content (missing),
    judged from the line and its place in the seed (``shape``, from :func:`seed_layout`) alone.

    Returns ``(kind, reason)`` with kind ``"boilerplate"`` or ``"content"``. ``after_marker`` is the
    "Latest Videos"-like heading that opened the run of teaser lines this one belongs to.
    """
    shape = shape or LineShape(after_marker=after_marker)
    after_marker = after_marker or shape.after_marker
    prose = _looks_like_prose(text)
    if shape.repeated and not prose:
        return "boilerplate", "repeated line"
    if shape.marker:
        return "boilerplate", "heading of a list of teasers"
    if after_marker is not None and not prose:
        return "boilerplate", f"teaser under {after_marker!r}"
    if len(_MENU_SEPARATORS.findall(text)) >= 2 and not prose:
        return "boilerplate", "menu or teaser line"
    if _is_reference(text):
        return "boilerplate", "link line (a lead and a headline)"
    if (
        author
        and line_key(author)
        and f" {line_key(author)} " in f" {line_key(text)} "
        and len(text.split()) <= 12
    ):
        return "boilerplate", "byline"
    if not prose and _words_of(text) <= SHORT_LINE_WORDS and not shape.next_is_prose:
        return "boilerplate", "short line outside the text"
    return "content", "missing from the archive"


@dataclass
class LineResult:
    """One seed line and what became of it in the archive."""

    line: int
    text: str
    present: bool
    match: str | None = None  # exact, approx
    where: str | None = None  # lede, body
    in_order: bool = True
    kind: str | None = None  # for absent lines: boilerplate, content
    reason: str | None = None


@dataclass
class TextReport:
    """The check of one text seed."""

    seed: str
    verdict: str
    problems: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # problem -> what caused it
    kind: str = "text"
    article: dict[str, Any] | None = None  # id, url, fetched_at
    matched_by: str | None = None  # title, text overlap
    candidates: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    title: dict[str, Any] = field(default_factory=dict)
    lede: dict[str, Any] = field(default_factory=dict)
    lines: list[LineResult] = field(default_factory=list)
    leaked: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict == CLEAN

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        if self.article and isinstance(self.article.get("fetched_at"), datetime):
            data["article"]["fetched_at"] = _iso(self.article["fetched_at"])
        return data


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _find_approx(key: str, candidates: Sequence[str]) -> int | None:
    best, best_ratio = None, APPROX_RATIO
    for i, other in enumerate(candidates):
        if not other:
            continue
        matcher = difflib.SequenceMatcher(None, key, other, autojunk=False)
        if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio >= best_ratio:
            best, best_ratio = i, ratio
    return best


def _increasing_subsequence(values: Sequence[int]) -> set[int]:
    """Indices of a longest strictly increasing subsequence of ``values`` (patience sorting)."""
    tails: list[int] = []  # index of the smallest tail of each length
    prev: list[int] = [-1] * len(values)
    for i, v in enumerate(values):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if values[tails[mid]] < v:
                lo = mid + 1
            else:
                hi = mid
        prev[i] = tails[lo - 1] if lo else -1
        if lo == len(tails):
            tails.append(i)
        else:
            tails[lo] = i
    out: set[int] = set()
    i = tails[-1] if tails else -1
    while i >= 0:
        out.add(i)
        i = prev[i]
    return out


def not_archived(seed: TextSeed, notes: Iterable[str] = ()) -> TextReport:
    """The report of a seed whose article is not in the archive."""
    return TextReport(
        seed=seed.path,
        verdict=NOT_ARCHIVED,
        problems=[NOT_ARCHIVED],
        notes=list(notes),
        title={"seed": seed.title, "archived": None, "match": None},
    )


def compare(seed: TextSeed, article: ArchivedArticle) -> TextReport:
    """Compare a text seed with the archived article it belongs to."""
    report = TextReport(
        seed=seed.path,
        verdict=CLEAN,
        article={"id": article.id, "url": article.url, "fetched_at": article.fetched_at},
    )
    paras = article.paragraphs()
    keys = [line_key(t) for _, t in paras]
    # One string of the archived text, paragraphs separated by a space, with each paragraph's offset:
    # a seed line is present when its key occurs there on word boundaries.
    doc, starts = " ", []
    for key in keys:
        starts.append(len(doc))
        doc += key + " "

    def where_at(pos: int) -> str:
        idx = max(i for i, s in enumerate(starts) if s <= pos + 1) if starts else 0
        return paras[idx][0]

    # Title
    seed_title_key, arch_title_key = line_key(seed.title), line_key(article.title or "")
    if (article.title or "").strip() == seed.title.strip():
        title_match = "exact"
    elif arch_title_key == seed_title_key:
        title_match = "normalised"
    elif seed_title_key and f" {seed_title_key} " in f" {arch_title_key} ":
        title_match = "archived title has extra text"
    elif arch_title_key and f" {arch_title_key} " in f" {seed_title_key} ":
        title_match = "archived title is cut short"
    else:
        title_match = "different"
    report.title = {"seed": seed.title, "archived": article.title, "match": title_match}

    # Seed lines: present (where) or absent. A line matching a whole archived paragraph is placed
    # there; otherwise where its key occurs on word boundaries, preferring after the previous line.
    para_at: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        para_at.setdefault(key, []).append(i)
    last = 0
    results: list[LineResult] = []
    placed: list[tuple[int, int]] = []  # (index in results, position in doc)
    for number, text in seed.lines:
        key = line_key(text)
        result = LineResult(line=number, text=text, present=False)
        results.append(result)
        if not key:  # nothing but symbols or emoji: nothing to look for
            result.kind, result.reason = "boilerplate", "no words"
            continue
        needle = f" {key} "
        pos = -1
        if key in para_at:
            idx = next((i for i in para_at[key] if starts[i] - 1 >= last), para_at[key][0])
            pos = starts[idx] - 1
        else:
            pos = doc.find(needle, last)
            if pos < 0:
                pos = doc.find(needle)
        if pos >= 0:
            result.present, result.match = True, "exact"
            end = pos + len(needle) - 1
        else:
            idx_approx = _find_approx(key, keys)
            if idx_approx is None:
                continue
            result.present, result.match = True, "approx"
            pos, end = starts[idx_approx] - 1, starts[idx_approx] + len(keys[idx_approx])
        result.where = where_at(pos)
        placed.append((len(results) - 1, pos))
        if pos >= last:
            last = end
    # In order: the longest run of present lines whose archive positions increase; the rest moved.
    in_order = _increasing_subsequence([pos for _, pos in placed])
    for k, (i, _) in enumerate(placed):
        results[i].in_order = k in in_order

    # Absent lines: boilerplate or content, by their place in the seed. Present lines that look
    # like boilerplate there (menus, repeated lines, teasers under a list heading) leaked.
    shapes = seed_layout([t for _, t in seed.lines])
    for result, shape in zip(results, shapes, strict=True):
        if not result.present:
            if result.kind is None:
                result.kind, result.reason = classify_absent(result.text, author=article.author, shape=shape)
            continue
        kind, reason = classify_absent(result.text, shape=shape)
        if kind == "boilerplate" and reason != "short line outside the text":
            result.kind, result.reason = kind, reason
    report.lines = results

    # Lede
    lede_key = line_key(article.lede or "")
    seed_keys = [(n, line_key(t)) for n, t in seed.lines]
    first_content = next((r.line for r in results if r.kind != "boilerplate"), None)
    if not lede_key:
        report.lede = {"found": False, "archived": None, "seed_line": None, "note": "no lede archived"}
    else:
        seed_line = next((n for n, k in seed_keys if k == lede_key), None)
        if seed_line is None:
            lede_idx = _find_approx(lede_key, [k for _, k in seed_keys])
            seed_line = seed_keys[lede_idx][0] if lede_idx is not None else None
        report.lede = {
            "found": seed_line is not None,
            "archived": article.lede,
            "seed_line": seed_line,
            "first_paragraph": seed_line is not None and seed_line == first_content,
        }

    # Archived text that is not in the seed.
    seed_doc = " " + " ".join(k for _, k in seed_keys) + " "
    seed_line_keys = [k for _, k in seed_keys]
    for (where, text), key in zip(paras, keys, strict=True):
        if not key or f" {key} " in seed_doc or _find_approx(key, seed_line_keys) is not None:
            continue
        looks = "boilerplate" if classify_absent(text)[0] == "boilerplate" else "foreign text"
        report.leaked.append({"where": where, "text": text, "looks_like": looks, "seed_line": None})
    for r in results:
        if r.present and r.kind == "boilerplate":
            report.leaked.append(
                {"where": r.where, "text": r.text, "looks_like": "boilerplate", "seed_line": r.line}
            )

    problems: list[str] = []
    why: dict[str, list[str]] = {MISSING: [], OUT_OF_ORDER: [], LEAKED: []}
    if title_match == "different":
        why[MISSING].append("title differs")
    elif title_match == "archived title is cut short":
        why[MISSING].append("title cut short")
    missing = sum(1 for r in results if r.kind == "content")
    if missing:
        why[MISSING].append(plural(missing, "content line") + " not archived")
    moved = sum(1 for r in results if r.present and not r.in_order and r.kind != "boilerplate")
    if moved:
        why[OUT_OF_ORDER].append(plural(moved, "line") + " out of place")
    if title_match == "archived title has extra text":
        why[LEAKED].append("extra text in the title")
    from_seed = sum(1 for x in report.leaked if x["seed_line"])
    if from_seed:
        why[LEAKED].append(plural(from_seed, "boilerplate line") + " of the seed archived")
    if len(report.leaked) - from_seed:
        why[LEAKED].append(plural(len(report.leaked) - from_seed, "archived line") + " not in the seed")
    problems = [p for p in (MISSING, OUT_OF_ORDER, LEAKED) if why[p]]
    report.reasons = {p: "; ".join(why[p]) for p in problems}
    report.problems = problems
    report.verdict = problems[0] if problems else CLEAN
    return report


# ------------------------------------------------------------------------------------------------
# URL lists


@dataclass(frozen=True)
class FailureRecord:
    """The latest recorded failure of a URL."""

    url: str
    failed_at: datetime
    reason: str
    http_status: int | None = None
    detail: str | None = None
    count: int = 1


ROBOTS_REASONS = frozenset({"robots", "robots_txt", "disallowed"})


@dataclass
class UrlReport:
    """Coverage of one URL list."""

    seed: str
    verdict: str
    kind: str = "urls"
    urls: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verdict == "covered"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        for entry in data["urls"]:
            for key in ("fetched_at", "checked_at", "failed_at"):
                if isinstance(entry.get(key), datetime):
                    entry[key] = _iso(entry[key])
        return data


def url_variants(url: str) -> tuple[str, ...]:
    """The forms a seed URL may have in the archive: as written and normalised."""
    forms = [url.strip()]
    try:
        norm = normalize(url.strip())
    except (ValueError, TypeError):  # courlan refuses some odd URLs; the written form remains
        norm = None
    if norm and norm not in forms:
        forms.append(norm)
    return tuple(forms)


def url_coverage(
    seed: UrlSeed,
    articles: Mapping[str, ArchivedArticle],
    failures: Mapping[str, FailureRecord],
    checked: Mapping[str, datetime | None] | None = None,
) -> UrlReport:
    """Which URLs of the list are archived, failed (latest recorded failure) or never reached.

    ``articles`` and ``failures`` are keyed by URL as stored (url or canonical url); every
    :func:`url_variants` form of a seed URL is looked up. ``checked`` maps an article URL to the
    last time it was found unchanged (HTTP 304), when known.
    """
    checked = checked or {}
    entries: list[dict[str, Any]] = []
    counts = {"archived": 0, "failed": 0, "disallowed": 0, "skipped": 0, "not reached": 0}
    for url in seed.urls:
        forms = url_variants(url)
        article = next((articles[f] for f in forms if f in articles), None)
        failure = max((failures[f] for f in forms if f in failures), key=lambda r: r.failed_at, default=None)
        entry: dict[str, Any] = {"url": url}
        if article is not None:
            entry.update(status="archived", id=article.id, title=article.title, fetched_at=article.fetched_at)
            when = checked.get(article.url)
            if when:
                entry["checked_at"] = when
            if failure is not None and article.fetched_at and failure.failed_at > article.fetched_at:
                entry["note"] = f"last attempt failed: {_failure_text(failure)}"
        elif failure is not None:
            status = "failed"
            if failure.reason in SKIP_REASONS:
                status = "skipped"
            elif failure.reason in ROBOTS_REASONS:
                status = "disallowed"  # by robots.txt: not fetched, on purpose
            entry.update(
                status=status,
                reason=failure.reason,
                http_status=failure.http_status,
                detail=failure.detail,
                failed_at=failure.failed_at,
                attempts=failure.count,
            )
        else:
            entry["status"] = "not reached"
        counts[entry["status"]] += 1
        entries.append(entry)
    verdict = "covered" if counts["archived"] == len(seed.urls) else "not covered"
    return UrlReport(seed=seed.path, verdict=verdict, urls=entries, counts=counts)


def _failure_text(f: FailureRecord) -> str:
    parts = [f"HTTP {f.http_status}" if f.http_status else None, f.reason, f.detail]
    return " ".join(p for p in parts if p)


# ------------------------------------------------------------------------------------------------
# Text output


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "?"


def render(report: TextReport | UrlReport) -> list[str]:
    """The human-readable lines of a report."""
    if isinstance(report, UrlReport):
        return _render_urls(report)
    out = [f"{report.seed}: article text, {plural(len(report.lines) + 1, 'line')}"]
    if report.article is None:
        out += [f"  {note}" for note in report.notes]
        out.append(f"  verdict: {report.verdict}")
        return out
    a = report.article
    out.append(f"  archived as {a['url']} (matched by {report.matched_by}, fetched {_when(a['fetched_at'])})")
    out += [f"  note: {note}" for note in report.notes]
    t = report.title
    out.append(f"  title: {t['match']}")
    if t["match"] not in ("exact", "normalised"):
        out.append(f"    seed:     {_short(t['seed'])}")
        out.append(f"    archived: {_short(t['archived'] or '(none)')}")
    lede = report.lede
    if lede.get("found"):
        extra = "" if lede.get("first_paragraph") else " (not the first paragraph)"
        out.append(f"  lede: found, seed line {lede['seed_line']}{extra}")
    else:
        out.append(f"  lede: not found ({lede.get('note') or _short(lede.get('archived') or '')})")
    present = [r for r in report.lines if r.present and r.kind != "boilerplate"]
    content_absent = [r for r in report.lines if not r.present and r.kind == "content"]
    boiler = [r for r in report.lines if not r.present and r.kind == "boilerplate"]
    disordered = [r for r in present if not r.in_order]
    approx = [r for r in present if r.match == "approx"]
    order = "in order" if not disordered else f"{len(disordered)} out of order"
    out.append(
        f"  paragraphs: {len(present)} of {len(present) + len(content_absent)} content lines archived, {order}"
        + (f" ({len(approx)} approximately)" if approx else "")
    )
    for r in disordered:
        out.append(f"    out of order, line {r.line}: {_short(r.text)}")
    for r in approx:
        out.append(f"    approximate, line {r.line}: {_short(r.text)}")
    out.append(f"  absent, content (missing): {len(content_absent)}")
    for r in content_absent:
        out.append(f"    line {r.line}: {_short(r.text)}")
    out.append(f"  absent, boilerplate (expected): {len(boiler)}")
    for r in boiler:
        out.append(f"    line {r.line}: {_short(r.text, 70)}  [{r.reason}]")
    out.append(f"  leaked (archived boilerplate or text not in the seed): {len(report.leaked)}")
    for item in report.leaked:
        origin = f"seed line {item['seed_line']}" if item.get("seed_line") else "not in the seed"
        out.append(f"    {item['where']}: {_short(item['text'])}  [{item['looks_like']}, {origin}]")
    parts = [f"{p} ({report.reasons[p]})" if report.reasons.get(p) else p for p in report.problems]
    out.append(f"  verdict: {parts[0] if parts else report.verdict}")
    out += [f"  also: {p}" for p in parts[1:]]
    return out


def _render_urls(report: UrlReport) -> list[str]:
    c = report.counts
    out = [f"{report.seed}: URL list, {plural(len(report.urls), 'URL')}"]
    for e in report.urls:
        status = e["status"]
        if status == "archived":
            extra = f"last fetched {_when(e['fetched_at'])}"
            if e.get("checked_at"):
                extra += f", checked unchanged {_when(e['checked_at'])}"
            if e.get("note"):
                extra += f"; {e['note']}"
        elif status in ("failed", "skipped", "disallowed"):
            what = " ".join(
                p for p in (f"HTTP {e['http_status']}" if e.get("http_status") else None, e["reason"]) if p
            )
            extra = f"{what}, {_when(e['failed_at'])}"
            if e.get("detail"):
                extra += f": {_short(e['detail'], 60)}"
            if e.get("attempts", 1) > 1:
                extra += f" ({e['attempts']} attempts)"
        else:
            extra = "no article and no recorded failure"
        out.append(f"  {status:<11} {e['url']}  {extra}")
    detail = ", ".join(f"{n} {k}" for k, n in c.items() if n or k in ("archived", "failed", "not reached"))
    out.append(f"  verdict: {report.verdict} ({detail})")
    return out
