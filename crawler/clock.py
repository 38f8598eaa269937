"""Now, as the archive stores times: a naive datetime in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (what the archive stores)."""
    return datetime.now(UTC).replace(tzinfo=None)
