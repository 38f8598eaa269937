"""Quality gate: extraction must not fall below the floors pinned in bench/floors.json.

Runs bench/quality.py's evaluation over ../shared/corpus-dev (next to the repository) and compares
our figures with the floors and with bare trafilatura measured in the same run. Skipped, with the
reason, where the corpus is not present (a clone elsewhere).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus-dev"
FLOORS = ROOT / "bench" / "floors.json"

# Every test here scores the shared corpus.
pytestmark = pytest.mark.slow


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_quality", ROOT / "bench" / "quality.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scores() -> dict:
    if not (CORPUS / "truth.jsonl").is_file():
        pytest.skip(f"quality corpus not found at {CORPUS} (it lives outside the repository)")
    return _load_bench().evaluate(CORPUS)


@pytest.fixture(scope="module")
def floors() -> dict:
    return json.loads(FLOORS.read_text(encoding="utf-8"))


def test_body_f1_at_or_above_floors(scores: dict, floors: dict) -> None:
    for name, floor in floors["body_f1"].items():
        assert scores["ours"][name].f1 >= floor, f"body F1 on {name}: {scores['ours'][name].f1:.4f} < {floor}"


def test_body_f1_beats_bare_trafilatura_on_every_set(scores: dict) -> None:
    for name, ours in scores["ours"].items():
        bare = scores["trafilatura"][name]
        assert ours.f1 > bare.f1, f"{name}: ours {ours.f1:.4f} <= trafilatura {bare.f1:.4f}"


def test_title_and_language_floors(scores: dict, floors: dict) -> None:
    overall = scores["ours"]["overall"]
    assert overall.title_exact is not None and overall.title_exact >= floors["title_exact"]
    assert overall.lang_acc is not None and overall.lang_acc >= floors["lang_accuracy"]


def test_time_within_ratio_of_bare_trafilatura(scores: dict, floors: dict) -> None:
    ours = scores["ours"]["overall"].median_ms
    bare = scores["trafilatura"]["overall"].median_ms
    assert ours <= floors["max_time_ratio"] * bare, f"median {ours:.1f} ms vs trafilatura {bare:.1f} ms"


def test_floors_file_is_complete(floors: dict) -> None:
    # Runs everywhere (no corpus needed): the gate's floors are all pinned and plausible.
    assert set(floors["body_f1"]) == {"overall", "aeb", "fundus"}
    assert all(0.9 < v < 1 for v in floors["body_f1"].values())
    assert 0.5 < floors["title_exact"] < 1 and 0.9 < floors["lang_accuracy"] <= 1
    assert 1 < floors["max_time_ratio"] < 5
