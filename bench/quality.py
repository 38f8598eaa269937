"""Extraction quality benchmark: our extract() against bare trafilatura.extract, side by side.

Usage: python bench/quality.py CORPUS [--worst N] [--out DIR] [--json FILE]

CORPUS is a directory like ../shared/corpus-dev: ``truth.jsonl`` (id, set, url, title, body, lang) and
``pages/<id>.html.gz`` (raw bytes as crawled). Body quality is scored as the public
article-extraction benchmark does: multisets of 4-token ``\\w+`` shingles, precision averaged over the
pages where the extractor returned text, recall over the pages whose truth has text, F1 of the two
averages; a page where both are empty is perfect. Printed per ``set`` and overall, for both extractors.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import trafilatura

from crawler.extract import extract

__all__ = ["PageResult", "Scores", "load_corpus", "main", "run", "score_body", "shingles"]

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

    def row(self) -> str:
        def pct(x: float | None) -> str:
            return "   -  " if x is None else f"{100 * x:5.1f}%"

        return (
            f"{self.pages:4d}  P {self.precision:.4f}  R {self.recall:.4f}  F1 {self.f1:.4f}  "
            f"title= {pct(self.title_exact)}  titleF1 {pct(self.title_f1)}  "
            f"lang {pct(self.lang_acc)}  {self.median_ms:7.1f} ms"
        )


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


def ours(raw: bytes, url: str) -> tuple[str | None, str | None, str | None]:
    art = extract(raw, url)
    if art is None:
        return None, None, None
    return art.text, art.title, art.lang


def bare(raw: bytes, url: str) -> tuple[str | None, str | None, str | None]:
    text = trafilatura.extract(raw, url=url)
    return text, None, None


def bare_with_title(raw: bytes, url: str) -> tuple[str | None, str | None, str | None]:
    """Bare trafilatura defaults; the title from its own metadata (timed separately, not in ms)."""
    doc = trafilatura.bare_extraction(raw, url=url, with_metadata=True)
    return None, (doc.title if doc else None), None


def run(
    rows: Iterable[dict[str, Any]],
    *fns: Callable[[bytes, str], tuple[str | None, str | None, str | None]],
    repeats: int = 1,
) -> list[list[PageResult]]:
    """Each extractor over every page; on each page the extractors run back to back, so that a
    machine busy with something else slows them alike and the time ratio stays fair. With
    ``repeats`` > 1 each page's time is the fastest of that many runs (less noise)."""
    out: list[list[PageResult]] = [[] for _ in fns]
    for rec in rows:
        for i, fn in enumerate(fns):
            ms = float("inf")
            for _ in range(max(1, repeats)):
                t0 = time.perf_counter()
                text, title, lang = fn(rec["raw"], rec["url"])
                ms = min(ms, 1000 * (time.perf_counter() - t0))
            p, r = score_body(text, rec.get("body"))
            out[i].append(PageResult(rec["id"], rec["set"], text, title, lang, ms, p, r))
    return out


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


def evaluate(corpus: Path, repeats: int = 1) -> dict[str, dict[str, Scores]]:
    """Run both extractors over ``corpus``: {extractor: {set or "overall": Scores}}."""
    rows = load_corpus(corpus)
    truth = {r["id"]: r for r in rows}
    # Warm-up so that model loading is not billed to the first page.
    if rows:
        ours(rows[0]["raw"], rows[0]["url"])
        bare(rows[0]["raw"], rows[0]["url"])
    res_ours, res_bare = run(rows, ours, bare, repeats=repeats)
    (res_titles,) = run(rows, bare_with_title)
    for r, t in zip(res_bare, res_titles, strict=True):
        r.title = t.title
    out: dict[str, dict[str, Scores]] = {}
    for name, res in (("ours", res_ours), ("trafilatura", res_bare)):
        sets = sorted({r.set for r in res})
        out[name] = {s: summarise([r for r in res if r.set == s], truth) for s in sets}
        out[name]["overall"] = summarise(res, truth)
        if name == "trafilatura":  # it tags no language; show "-" rather than 0%
            for sc in out[name].values():
                sc.lang_acc = None
    evaluate.last_results = {"ours": res_ours, "trafilatura": res_bare, "truth": truth}  # type: ignore[attr-defined]
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
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--worst", type=int, default=0, help="write the N worst pages as diffs")
    ap.add_argument("--out", type=Path, default=Path("bench/worst"), help="where --worst writes")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ap.add_argument(
        "--repeats", type=int, default=1, help="time each page N times and keep the fastest (steadier ms)"
    )
    args = ap.parse_args(argv)
    if not (args.corpus / "truth.jsonl").is_file():
        print(f"error: no truth.jsonl in {args.corpus}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    scores = evaluate(args.corpus, repeats=args.repeats)
    for name, per_set in scores.items():
        print(f"== {name}")
        for s, sc in per_set.items():
            print(f"  {s:8s} {sc.row()}")
    ratio = scores["ours"]["overall"].median_ms / max(1e-9, scores["trafilatura"]["overall"].median_ms)
    print(f"median ms ratio ours/trafilatura: {ratio:.2f}   total {time.perf_counter() - t0:.1f} s")
    if args.json:
        args.json.write_text(
            json.dumps({n: {s: vars(sc) for s, sc in d.items()} for n, d in scores.items()}, indent=1)
        )
    if args.worst:
        last = evaluate.last_results  # type: ignore[attr-defined]
        write_worst(last["ours"], last["truth"], args.worst, args.out)
        print(f"wrote {args.worst} worst pages to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
