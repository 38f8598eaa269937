"""Wording of what the commands print: counts with their noun in the right number, and the one-line
live status a long command shows on a terminal."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["StatusLine", "plural"]


def plural(n: int, noun: str, plural_form: str | None = None) -> str:
    """``1 page``, ``2 pages``, ``0 pages`` (``plural_form`` for irregular nouns)."""
    return f"{n:,} {noun if n == 1 else (plural_form or noun + 's')}"


class StatusLine:
    """A one-line live status on standard error (rich's spinner line), shown only when standard error
    is a terminal: elsewhere :meth:`show` does nothing."""

    def __init__(self) -> None:
        self._status: Any = None
        self._console: Any = None
        if sys.stderr.isatty():
            from rich.console import Console

            self._console = Console(stderr=True)

    @property
    def active(self) -> bool:
        """Whether the line is shown (standard error is a terminal)."""
        return self._console is not None

    def show(self, text: str) -> None:
        """Show ``text`` as the line, in place of what it showed."""
        if self._console is None:
            return
        if self._status is None:
            self._status = self._console.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def stop(self) -> None:
        """Take the line off the terminal."""
        if self._status is not None:
            self._status.stop()
