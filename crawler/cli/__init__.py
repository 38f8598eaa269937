"""The ``crawler`` command line: a click group; each command lives in its own module here."""

from __future__ import annotations

import errno
import importlib
import os
import sys

import click

from crawler import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crawler")
def cli() -> None:
    """Crawl news sites into a clean-text archive, export it, and check it against seeds."""


# Exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130

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
    "health",
    "ingest",
)


def _register() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(f"crawler.cli.{name}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``crawler`` console script; returns the exit code.

    0 success, 1 a failed run or a seed that does not hold, 2 a usage error, 130 Ctrl-C.
    """
    try:
        _register()
        result = cli.main(args=argv, prog_name="crawler", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("crawler: interrupted", err=True)
        return INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        # The reader went away (`crawler export --out - | head`): no traceback on the way out.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaces stdout until exit
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (1 if exc.code else 0)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
