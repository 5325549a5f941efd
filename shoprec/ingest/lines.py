"""Lines of an object, and what a source's parser makes of each.

A parser turns one complete line into an ``Event``, a ``Rejection`` (bad input: quarantined
with its reason and the redacted raw line) or a ``Filtered`` line (valid, but not behaviour:
bots, health checks, assets; counted by reason). ``split_lines`` cuts a stream of chunks into
complete lines in bounded memory: a line over ``max_line`` bytes is cut there and flagged,
and what follows the last newline is left as the tail.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from shoprec.schema import Event


@dataclass(frozen=True)
class Rejection:
    """A line that is not an event, with the reason it was set aside."""

    reason: str
    detail: str


@dataclass(frozen=True)
class Filtered:
    """A valid line that is not shopper behaviour (counted by reason, not kept)."""

    reason: str


Parsed = Event | Rejection | Filtered


class LineParser(Protocol):
    def __call__(self, line: str, origin: str, position: str) -> Parsed:
        """``origin``: where the line was read (``<key>@<offset>``); ``position``: its place
        in the content stream (``<stream>@<offset>``), which the event id derives from."""
        ...


@dataclass(frozen=True)
class Line:
    offset: int  # of the line's first byte, in the (decompressed) object
    raw: bytes  # without its newline; only the first ``max_line`` bytes of a longer line
    length: int  # the whole line's length, newline excluded

    @property
    def oversized(self) -> bool:
        return self.length > len(self.raw)

    @property
    def end(self) -> int:
        """Offset just past this line's newline."""
        return self.offset + self.length + 1


class LineSplitter:
    """Complete lines of ``chunks`` (which start at ``start``); afterwards ``tail_offset``,
    ``tail`` (its first ``max_line`` bytes) and ``tail_bytes`` describe what follows the last
    newline. Memory stays within a chunk plus ``max_line``, whatever the lines' lengths."""

    def __init__(self, chunks: Iterable[bytes], start: int, max_line: int) -> None:
        self.chunks, self.start, self.max_line = chunks, start, max_line
        self.tail_offset, self.tail, self.tail_bytes = start, b"", 0

    def __iter__(self) -> Iterator[Line]:
        head, start, length = b"", self.start, 0  # the unfinished line: first bytes, offset, size
        for chunk in self.chunks:
            parts = chunk.split(b"\n")
            for part in parts[:-1]:
                raw = head + part[: self.max_line] if length else part[: self.max_line]
                yield Line(start, raw[: self.max_line], length + len(part))
                start += length + len(part) + 1
                head, length = b"", 0
            last = parts[-1]
            if len(head) < self.max_line:
                head += last[: self.max_line - len(head)]
            length += len(last)
            self.tail_offset, self.tail, self.tail_bytes = start, head, length
