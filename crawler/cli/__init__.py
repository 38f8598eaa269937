"""The ``crawler`` command line: a click group; each command lives in its own module here."""

from __future__ import annotations

import importlib
import sys

import click

from crawler import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crawler")
def cli() -> None:
    """Crawl news sites into a clean-text archive, export it, and check it against seeds."""


# One module a command; each decorates its function with ``@cli.command()``.
_COMMAND_MODULES = (
    "crawl",
    "demo",
    "stats",
    "export",
    "check",
    "history",
    "reextract",
    "search",
    "boilerplate",
    "db",
    "enqueue",
)


def _register() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(f"crawler.cli.{name}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``crawler`` console script; returns the exit code."""
    _register()
    try:
        cli.main(args=argv, prog_name="crawler", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
