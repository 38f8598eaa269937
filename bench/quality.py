"""Extraction quality benchmark: our extract() against bare trafilatura.extract, side by side.

Usage: python bench/quality.py [CORPUS ...] [--worst N] [--out DIR] [--json FILE]

Each CORPUS is a directory like ../shared/corpus-dev: ``truth.jsonl`` (id, set, url, title, body, lang,
optional charset) and ``pages/<id>.html.gz`` (raw bytes as crawled); by default both shared corpora
(``../shared/corpus-dev`` and ``../shared/corpus-dev-older``). A record's ``charset`` is what the
crawler's HTTP header said: both extractors get it (ours as the Content-Type, trafilatura as the text
decoded with it). Body quality is scored as the public article-extraction benchmark does: multisets of
4-token ``\\w+`` shingles, precision averaged over the pages where the extractor returned text, recall
over the pages whose truth has text, F1 of the two averages; a page where both are empty is perfect.
Printed per ``set`` and overall, for both extractors, with the count of **lost articles**: pages where
bare trafilatura returns at least 100 words of the truth and we archive nothing, each listed with the
reason our extractor gave.

Metadata is scored on the pages whose truth has ``published`` (the publisher's time with its UTC offset)
or ``authors`` (a list), ours beside trafilatura's own metadata (``bare_extraction(...,
with_metadata=True)``: ``date``, ``author``): the publication **day** (in the truth's offset), the time
to the **minute** (the same instant; on the pages whose truth has a time) and the **authors** as a set
of names (exact; ours: ``authors`` and ``credit`` together, as the truth lists agencies among authors).
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import trafilatura

from crawler.extract import explain, word_count
from crawler.items import Article

__all__ = [
    "PageResult",
    "Scores",
    "evaluate",
    "load_corpus",
    "lost_articles",
    "main",
    "metadata_scores",
    "run",
    "score_body",
    "shingles",
]

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)


def shingles(text: str | None, n: int = 4) -> Counter[tuple[str, ...]]:
    """Multiset of n-token shingles of ``text`` (``\\w+`` tokens)."""
    tokens = _WORD_RE.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def score_body(pred: str | None, truth: str | None) -> tuple[float | None, float | None]:
    """(precision, recall) of one page; None where undefined (no prediction / empty truth)."""
    ps, ts = shingles(pred), shingles(truth)
    if not ps and not ts:
        return 1.0, 1.0
    matched = sum((ps & ts).values())
    precision = matched / sum(ps.values()) if ps else None
    recall = matched / sum(ts.values()) if ts else None
    return precision, recall


def _norm_title(t: str | None) -> str:
    # Whitespace-normalised; soft hyphens and zero-width characters are not text.
    t = (t or "").translate(_INVISIBLE)
    return " ".join(t.split()).casefold()


def title_f1(pred: str | None, truth: str) -> float:
    p, t = (
        Counter(w.casefold() for w in _WORD_RE.findall(pred or "")),
        Counter(w.casefold() for w in _WORD_RE.findall(truth)),
    )
    m = sum((p & t).values())
    if not m:
        return 0.0
    pr, rc = m / sum(p.values()), m / sum(t.values())
    return 2 * pr * rc / (pr + rc)


LOST_MIN_WORDS = 100  # bare trafilatura found at least this many words of the truth...
ARCHIVED_MIN_WORDS = 20  # ...and we archived nothing: the crawl keeps no text shorter (CRAWLER_MIN_WORDS)


@dataclass
class PageResult:
    id: str
    set: str
    text: str | None
    title: str | None
    lang: str | None
    ms: float
    precision: float | None
    recall: float | None
    reason: str | None = None  # why our extractor archived nothing, where it did not
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scores:
    pages: int
    precision: float
    recall: float
    f1: float
    title_exact: float | None
    title_f1: float | None
    titled: int
    lang_acc: float | None
    langed: int
    median_ms: float
    lost: int | None = None

    def row(self) -> str:
        def pct(x: float | None) -> str:
            return "   -  " if x is None else f"{100 * x:5.1f}%"

        lost = "" if self.lost is None else f"  lost {self.lost}"
        return (
            f"{self.pages:4d}  P {self.precision:.4f}  R {self.recall:.4f}  F1 {self.f1:.4f}  "
            f"title= {pct(self.title_exact)}  titleF1 {pct(self.title_f1)}  "
            f"lang {pct(self.lang_acc)}  {self.median_ms:7.1f} ms{lost}"
        )


def default_corpora() -> list[Path]:
    shared = ROOT.parent / "shared"
    return [shared / "corpus-dev", shared / "corpus-dev-older"]


def load_corpus(corpus: Path) -> list[dict[str, Any]]:
    """Truth records, each with its raw page bytes under ``raw``."""
    rows = []
    with open(corpus / "truth.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                rec["raw"] = gzip.decompress((corpus / "pages" / f"{rec['id']}.html.gz").read_bytes())
                rows.append(rec)
    return rows


Extractor = Callable[[dict[str, Any]], tuple[str | None, str | None, str | None, str | None]]


def _content_type(rec: dict[str, Any]) -> str | None:
    return f"text/html; charset={rec['charset']}" if rec.get("charset") else None


def ours(rec: dict[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """(text, title, lang, reason archived nothing) of our extractor, as the crawl keeps it."""
    res = explain(rec["raw"], rec.get("url"), content_type=_content_type(rec))
    if not isinstance(res, Article):
        return None, None, None, res.reason.value
    if word_count(res.text) < ARCHIVED_MIN_WORDS:
        return None, res.title, res.lang, "empty_body"
    return res.text, res.title, res.lang, None


def _bare_input(rec: dict[str, Any]) -> str | bytes:
    # With a charset from the HTTP header, a hand-written script would pass the decoded text.
    charset = rec.get("charset")
    return rec["raw"].decode(charset, errors="replace") if charset else rec["raw"]


def bare(rec: dict[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    return trafilatura.extract(_bare_input(rec), url=rec.get("url")), None, None, None


def bare_with_title(rec: dict[str, Any]) -> tuple[str | None, str | None, str | None, str | None]:
    """Bare trafilatura defaults; the title from its own metadata (timed separately, not in ms)."""
    doc = trafilatura.bare_extraction(_bare_input(rec), url=rec.get("url"), with_metadata=True)
    return None, (doc.title if doc else None), None, None


def run(rows: Iterable[dict[str, Any]], *fns: Extractor, repeats: int = 1) -> list[list[PageResult]]:
    """Each extractor over every page; on each page the extractors run back to back, so that a
    machine busy with something else slows them alike and the time ratio stays fair. With
    ``repeats`` > 1 each page's time is the fastest of that many runs (less noise)."""
    out: list[list[PageResult]] = [[] for _ in fns]
    for rec in rows:
        for i, fn in enumerate(fns):
            ms = float("inf")
            for _ in range(max(1, repeats)):
                t0 = time.perf_counter()
                text, title, lang, reason = fn(rec)
                ms = min(ms, 1000 * (time.perf_counter() - t0))
            p, r = score_body(text, rec.get("body"))
            out[i].append(PageResult(rec["id"], rec["set"], text, title, lang, ms, p, r, reason))
    return out


def truth_words_found(text: str | None, truth: str | None) -> int:
    """How many \\w+ tokens of ``truth`` ``text`` holds (multiset intersection)."""
    a = Counter(_WORD_RE.findall(text or ""))
    b = Counter(_WORD_RE.findall(truth or ""))
    return sum((a & b).values())


def lost_articles(
    res_ours: list[PageResult], res_bare: list[PageResult], truth: dict[str, dict[str, Any]]
) -> list[PageResult]:
    """Our results on the pages where bare trafilatura found at least LOST_MIN_WORDS words of the
    truth and we archived nothing."""
    return [
        o
        for o, b in zip(res_ours, res_bare, strict=True)
        if o.text is None and truth_words_found(b.text, truth[o.id].get("body")) >= LOST_MIN_WORDS
    ]


def summarise(results: list[PageResult], truth: dict[str, dict[str, Any]]) -> Scores:
    precs = [r.precision for r in results if r.precision is not None]
    recs = [r.recall for r in results if r.recall is not None]
    p = statistics.fmean(precs) if precs else 0.0
    r = statistics.fmean(recs) if recs else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    titled = [(r.title, truth[r.id]["title"]) for r in results if truth[r.id].get("title")]
    exact = sum(_norm_title(a) == _norm_title(b) for a, b in titled) / len(titled) if titled else None
    tf1 = statistics.fmean(title_f1(a, b) for a, b in titled) if titled else None
    langed = [(r.lang, truth[r.id]["lang"]) for r in results if truth[r.id].get("lang")]
    lang_acc = sum(a == b for a, b in langed) / len(langed) if langed else None
    return Scores(
        len(results),
        p,
        r,
        f1,
        exact,
        tf1,
        len(titled),
        lang_acc,
        len(langed),
        statistics.median(r.ms for r in results) if results else 0.0,
    )


def evaluate(corpora: Path | Iterable[Path], repeats: int = 1) -> dict[str, dict[str, Scores]]:
    """Run both extractors over every corpus: {extractor: {set, corpus name or "overall": Scores}}.

    Sets are the ``set`` field of the truth; each corpus directory's name is also a row (its sets
    together), and "overall" is every page of every corpus.
    """
    paths = [corpora] if isinstance(corpora, Path) else list(corpora)
    rows: list[dict[str, Any]] = []
    corpus_of: dict[str, str] = {}
    for path in paths:
        for rec in load_corpus(path):
            corpus_of[rec["id"]] = path.name
            rows.append(rec)
    truth = {r["id"]: r for r in rows}
    # Warm-up so that model loading is not billed to the first page.
    if rows:
        ours(rows[0])
        bare(rows[0])
    res_ours, res_bare = run(rows, ours, bare, repeats=repeats)
    (res_titles,) = run(rows, bare_with_title)
    for r, t in zip(res_bare, res_titles, strict=True):
        r.title = t.title
    lost = {r.id for r in lost_articles(res_ours, res_bare, truth)}
    out: dict[str, dict[str, Scores]] = {}
    for name, res in (("ours", res_ours), ("trafilatura", res_bare)):
        groups: dict[str, list[PageResult]] = {}
        for r in res:
            groups.setdefault(r.set, []).append(r)
        if len(paths) > 1:
            for r in res:
                groups.setdefault(corpus_of[r.id], []).append(r)
        groups["overall"] = res
        out[name] = {}
        for g, members in groups.items():
            sc = summarise(members, truth)
            if name == "ours":
                sc.lost = sum(r.id in lost for r in members)
            else:  # it tags no language; show "-" rather than 0%
                sc.lang_acc = None
            out[name][g] = sc
    evaluate.last_results = {  # type: ignore[attr-defined]
        "ours": res_ours,
        "trafilatura": res_bare,
        "truth": truth,
        "lost": [r for r in res_ours if r.id in lost],
    }
    return out


@dataclass
class MetaScores:
    """Date and author accuracy of one extractor on one set (None where no page has that truth)."""

    dated: int = 0
    day: float | None = None
    timed: int = 0
    minute: float | None = None
    authored: int = 0
    authors_exact: float | None = None

    def row(self) -> str:
        def pct(x: float | None, n: int) -> str:
            return f"{'-':>6s} of {n:3d}" if x is None else f"{100 * x:5.1f}% of {n:3d}"

        return (
            f"day {pct(self.day, self.dated)}  minute {pct(self.minute, self.timed)}  "
            f"authors {pct(self.authors_exact, self.authored)}"
        )


def _stamp(value: str | None) -> datetime | None:
    """A date or time string as a datetime (aware when it states an offset); a date alone at midnight."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _has_time(value: str) -> bool:
    return len(value.strip()) > 10


def day_right(pred: str | None, truth: str) -> bool:
    """The predicted day is the truth's, the prediction read in the truth's UTC offset when both have one."""
    p, t = _stamp(pred), _stamp(truth)
    if p is None or t is None:
        return False
    if pred is not None and _has_time(pred) and p.tzinfo is not None and t.tzinfo is not None:
        p = p.astimezone(t.tzinfo)
    return p.date() == t.date()


def minute_right(pred: str | None, truth: str) -> bool:
    """The predicted time is the truth's to the minute: the same instant where both state an offset,
    the same wall-clock time otherwise; a date alone is never right."""
    p, t = _stamp(pred), _stamp(truth)
    if p is None or t is None or pred is None or not _has_time(pred):
        return False
    if p.tzinfo is not None and t.tzinfo is not None:
        p, t = p.astimezone(UTC), t.astimezone(UTC)
    return p.replace(tzinfo=None, second=0, microsecond=0) == t.replace(tzinfo=None, second=0, microsecond=0)


def _name_set(names: Iterable[str]) -> set[str]:
    return {" ".join(n.split()).casefold() for n in names if n and n.strip()}


def _ours_meta(rec: dict[str, Any]) -> tuple[str | None, list[str]]:
    res = explain(rec["raw"], rec.get("url"), content_type=_content_type(rec))
    if not isinstance(res, Article):
        return None, []
    return res.published, res.authors + res.credit


def _bare_meta(rec: dict[str, Any]) -> tuple[str | None, list[str]]:
    doc = trafilatura.bare_extraction(_bare_input(rec), url=rec.get("url"), with_metadata=True)
    if not doc:
        return None, []
    return doc.date, [a.strip() for a in (doc.author or "").split(";")]


def metadata_scores(rows: list[dict[str, Any]]) -> dict[str, dict[str, MetaScores]]:
    """{extractor: {set, "overall": MetaScores}} over the pages whose truth has dates or authors."""
    pages = [r for r in rows if r.get("published") or r.get("authors") is not None]
    out: dict[str, dict[str, MetaScores]] = {}
    for name, fn in (("ours", _ours_meta), ("trafilatura", _bare_meta)):
        tallies: dict[str, list[list[bool]]] = {}
        for rec in pages:
            published, authors = fn(rec)
            for group in (rec["set"], "overall"):
                day, minute, names = tallies.setdefault(group, [[], [], []])
                if rec.get("published"):
                    day.append(day_right(published, rec["published"]))
                    if _has_time(rec["published"]):
                        minute.append(minute_right(published, rec["published"]))
                if rec.get("authors") is not None:
                    names.append(_name_set(authors) == _name_set(rec["authors"]))
        out[name] = {}
        for group, (day, minute, names) in tallies.items():
            out[name][group] = MetaScores(
                len(day),
                sum(day) / len(day) if day else None,
                len(minute),
                sum(minute) / len(minute) if minute else None,
                len(names),
                sum(names) / len(names) if names else None,
            )
    return out


def write_worst(results: list[PageResult], truth: dict[str, dict[str, Any]], n: int, out_dir: Path) -> None:
    """The ``n`` pages with the lowest body F1, each as a readable line diff."""
    out_dir.mkdir(parents=True, exist_ok=True)

    def f1(r: PageResult) -> float:
        p, rc = r.precision or 0.0, r.recall or 0.0
        return 2 * p * rc / (p + rc) if p + rc else 0.0

    for rank, r in enumerate(sorted(results, key=f1)[:n], 1):
        rec = truth[r.id]
        want = [x.strip() for x in (rec.get("body") or "").splitlines() if x.strip()]
        got = [x.strip() for x in (r.text or "").splitlines() if x.strip()]
        diff = difflib.unified_diff(want, got, "truth", "ours", lineterm="", n=0)
        head = (
            f"id {r.id}  set {r.set}  F1 {f1(r):.3f}  P {r.precision}  R {r.recall}\nurl {rec['url']}\n"
            f"title truth: {rec.get('title')!r}\ntitle ours:  {r.title!r}\nlang truth {rec.get('lang')} ours {r.lang}\n\n"
        )
        (out_dir / f"{rank:02d}_{r.id}.diff").write_text(head + "\n".join(diff) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, nargs="*", help="corpus directories (default: both shared corpora)")
    ap.add_argument("--worst", type=int, default=0, help="write the N worst pages as diffs")
    ap.add_argument("--out", type=Path, default=Path("bench/worst"), help="where --worst writes")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ap.add_argument(
        "--repeats", type=int, default=1, help="time each page N times and keep the fastest (steadier ms)"
    )
    args = ap.parse_args(argv)
    corpora = args.corpus or default_corpora()
    for corpus in corpora:
        if not (corpus / "truth.jsonl").is_file():
            print(f"error: no truth.jsonl in {corpus}", file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    scores = evaluate(corpora, repeats=args.repeats)
    groups = list(scores["ours"])
    print(f"{'':22s}{'pages':>5s}  {'ours P / R / F1':^22s}   {'trafilatura P / R / F1':^22s}  lost")
    for g in groups:
        o, b = scores["ours"][g], scores["trafilatura"][g]
        print(
            f"  {g:20s}{o.pages:5d}  {o.precision:.3f} {o.recall:.3f} {o.f1:.4f}   "
            f"{b.precision:.3f} {b.recall:.3f} {b.f1:.4f}   {o.lost:3d}   dF1 {o.f1 - b.f1:+.4f}"
        )
    for name, per_set in scores.items():
        print(f"== {name}")
        for s, sc in per_set.items():
            print(f"  {s:20s} {sc.row()}")
    ratio = scores["ours"]["overall"].median_ms / max(1e-9, scores["trafilatura"]["overall"].median_ms)
    print(f"median ms ratio ours/trafilatura: {ratio:.2f}   total {time.perf_counter() - t0:.1f} s")
    last = evaluate.last_results  # type: ignore[attr-defined]
    print(f"lost articles (trafilatura found >= {LOST_MIN_WORDS} words of the truth, we archived nothing):")
    for r in last["lost"]:
        print(f"  {r.id:28s} {r.set:16s} reason: {r.reason}")
    if not last["lost"]:
        print("  none")
    rows = [r for c in corpora for r in load_corpus(c)]
    meta = metadata_scores(rows)
    print("metadata (pages whose truth has them):")
    for group in meta["ours"]:
        for name in ("ours", "trafilatura"):
            print(f"  {group:20s} {name:12s} {meta[name][group].row()}")
    if args.json:
        figures: dict[str, Any] = {n: {s: vars(sc) for s, sc in d.items()} for n, d in scores.items()}
        figures["metadata"] = {n: {s: vars(sc) for s, sc in d.items()} for n, d in meta.items()}
        args.json.write_text(json.dumps(figures, indent=1))
    if args.worst:
        write_worst(last["ours"], last["truth"], args.worst, args.out)
        print(f"wrote {args.worst} worst pages to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
