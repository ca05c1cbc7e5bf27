"""A multipart body's boundary found without compiling a regular expression for it.

werkzeug's MultipartDecoder compiles two patterns around each body's boundary, and every client sends a boundary of
its own: two compilations a request (~0.2 ms of CPU, the largest part of parsing a report's form at the gateway),
each pushing a pattern the process uses again out of `re`'s cache. `BoundaryDecoder` is the same decoder with
those two patterns replaced by `BoundarySearch` — `bytes.find` of `--<boundary>`, then one pattern compiled once
for what may follow it — which answers every search as the pattern would (tests/unit/test_multipart.py holds it to
werkzeug's own decoder, event for event). `install()` makes werkzeug's form parser use it (paht.web)."""
from __future__ import annotations

import re

from werkzeug import formparser
from werkzeug.sansio.multipart import LINE_BREAK, MultipartDecoder

# what follows `--<boundary>` in werkzeug's patterns: `--` (the epilogue) or the end of the boundary line
_AFTER = re.compile(rb"(--[^\S\n\r]*%s?|[^\S\n\r]*%s)" % (LINE_BREAK, LINE_BREAK), re.MULTILINE)


class BoundaryMatch:
    """What the decoder reads of a match: where it starts and ends, and what followed the boundary."""

    __slots__ = ("_start", "_end", "_after")

    def __init__(self, start: int, end: int, after: bytes):
        self._start, self._end, self._after = start, end, after

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def group(self, index: int) -> bytes:
        if index != 1:
            raise IndexError(index)
        return self._after


class BoundarySearch:
    """`re.compile(rb"<line break>--<boundary>(…)")` (`break_optional`: `<line break>?`) as the decoder searches
    with it: the leftmost match at or after `pos`."""

    def __init__(self, boundary: bytes, break_optional: bool):
        self.marker, self.break_optional = b"--" + boundary, break_optional

    def search(self, data, pos: int = 0) -> BoundaryMatch | None:
        at = pos
        while True:
            found = data.find(self.marker, at)
            if found == -1:
                return None
            start = self._start(data, found, pos)
            if start is not None:
                after = _AFTER.match(data, found + len(self.marker))
                if after is not None:
                    return BoundaryMatch(start, after.end(), after.group(1))
            at = found + 1

    def _start(self, data, found: int, pos: int) -> int | None:
        """Where a match of the marker at `found` begins: at the line break before it (`\\r\\n`, else `\\r` or
        `\\n`), which must lie at or after `pos`; without one, at the marker when the break is optional."""
        if found - 2 >= pos and data[found - 2:found] == b"\r\n":
            return found - 2
        if found - 1 >= pos and data[found - 1:found] in (b"\r", b"\n"):
            return found - 1
        return found if self.break_optional else None


class BoundaryDecoder(MultipartDecoder):
    def __init__(self, boundary: bytes, max_form_memory_size: int | None = None, *, max_parts: int | None = None):
        # werkzeug's set-up with a fixed boundary (its patterns come from `re`'s cache), then this body's
        super().__init__(b"-", max_form_memory_size, max_parts=max_parts)
        self.boundary = boundary
        self.preamble_re = BoundarySearch(boundary, break_optional=True)
        self.boundary_re = BoundarySearch(boundary, break_optional=False)


def install() -> None:
    """werkzeug's form parser (MultiPartParser.parse) decodes with BoundaryDecoder."""
    formparser.MultipartDecoder = BoundaryDecoder
