"""Quality gate: extraction must not fall below the floors pinned in bench/floors.json.

Runs bench/quality.py's evaluation over both shared corpora (../shared/corpus-dev and
../shared/corpus-dev-older, next to the repository) and compares our figures with the floors and with
bare trafilatura measured in the same run, on every set. Skipped, with the reason, where the corpora
are not present (a clone elsewhere).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPORA = [SHARED / "corpus-dev", SHARED / "corpus-dev-older"]
FLOORS = ROOT / "bench" / "floors.json"
# What positive evidence of "not an article" the benchmark accepts as explaining a lost article.
EXPLAINED = {"listing", "index_page", "site_page"}


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_quality", ROOT / "bench" / "quality.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load_bench()


@pytest.fixture(scope="module")
def scores(bench: ModuleType) -> dict[str, Any]:
    missing = [str(c) for c in CORPORA if not (c / "truth.jsonl").is_file()]
    if missing:
        pytest.skip(f"quality corpora not found: {', '.join(missing)} (they live outside the repository)")
    return bench.evaluate(CORPORA)


@pytest.fixture(scope="module")
def floors() -> dict[str, Any]:
    return json.loads(FLOORS.read_text(encoding="utf-8"))


def test_body_f1_at_or_above_floors(scores: dict, floors: dict) -> None:
    for name, floor in floors["body_f1"].items():
        assert scores["ours"][name].f1 >= floor, f"body F1 on {name}: {scores['ours'][name].f1:.4f} < {floor}"


def test_body_f1_beats_bare_trafilatura_on_every_set(scores: dict) -> None:
    for name, ours in scores["ours"].items():
        bare = scores["trafilatura"][name]
        assert ours.f1 > bare.f1, f"{name}: ours {ours.f1:.4f} <= trafilatura {bare.f1:.4f}"


def test_no_article_lost_without_evidence(bench: ModuleType, scores: dict, floors: dict) -> None:
    lost = bench.evaluate.last_results["lost"]
    unexplained = [f"{r.id} ({r.reason})" for r in lost if r.reason not in EXPLAINED]
    assert len(unexplained) <= floors["max_lost_unexplained"], f"articles lost: {unexplained}"


def test_title_and_language_floors(scores: dict, floors: dict) -> None:
    for name, floor in floors["title_exact"].items():
        got = scores["ours"][name].title_exact
        assert got is not None and got >= floor, f"title exact on {name}: {got} < {floor}"
    for name, floor in floors["lang_accuracy"].items():
        got = scores["ours"][name].lang_acc
        assert got is not None and got >= floor, f"language on {name}: {got} < {floor}"


def test_time_within_ratio_of_bare_trafilatura(scores: dict, floors: dict) -> None:
    ours = scores["ours"]["overall"].median_ms
    bare = scores["trafilatura"]["overall"].median_ms
    assert ours <= floors["max_time_ratio"] * bare, f"median {ours:.1f} ms vs trafilatura {bare:.1f} ms"


@pytest.mark.parametrize("key", ["body_f1", "title_exact", "lang_accuracy"])
def test_floors_file_is_complete(floors: dict, key: str) -> None:
    # Runs everywhere (no corpus needed): the gate's floors are all pinned and plausible.
    sets = {"aeb", "fundus", "l3s-gn1", "dragnet", "cleanportaleval", "corpus-dev", "corpus-dev-older"}
    assert set(floors["body_f1"]) == sets
    assert all(0.5 < v < 1 for v in floors[key].values())
    assert floors["max_lost_unexplained"] == 0
    assert 1 < floors["max_time_ratio"] < 5
