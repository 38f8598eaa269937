"""Wording of what the commands print: counts with their noun in the right number."""

from __future__ import annotations

__all__ = ["plural"]


def plural(n: int, noun: str, plural_form: str | None = None) -> str:
    """``1 page``, ``2 pages``, ``0 pages`` (``plural_form`` for irregular nouns)."""
    return f"{n:,} {noun if n == 1 else (plural_form or noun + 's')}"
