"""A progress bar on a terminal, nothing elsewhere.

The bar is tqdm's, drawn on stderr, only when stderr is a terminal: a log file or a pipe gets
no carriage returns and no ANSI codes. tqdm is imported only then (it costs tens of ms), so
``import greenai_core`` and non-interactive runs never pay for it. ``GREENAI_NO_PROGRESS=1``
turns the bar off on a terminal too.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any, TextIO


def wants_bar(stream: TextIO) -> bool:
    """Whether a bar belongs on ``stream``: a terminal, and not turned off by the user."""
    if os.environ.get("GREENAI_NO_PROGRESS", "") not in ("", "0"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):  # not backed by a descriptor, or no size to tell
        return 0


class Progress:
    """A bar of ``total`` steps labelled ``what``; ``advance`` moves it, ``note`` sets the phase shown.

    Off a terminal every method does nothing. Used as a context manager, the bar is removed
    when the block ends (the summary printed after it stands alone).
    """

    def __init__(self, total: int, what: str, *, unit: str = "step", stream: TextIO | None = None) -> None:
        out = stream if stream is not None else sys.stderr
        self._bar: Any = None
        if wants_bar(out):
            from tqdm import tqdm  # only on a terminal: tqdm's import is not free

            # A terminal that reports no size (a serial console, a fresh pty) would get no bar at all from
            # tqdm (it reads -1 rows): give it 80 x 24.
            sized = _columns(out) > 0
            self._bar = tqdm(total=total, desc=what, unit=unit, file=out, leave=False, dynamic_ncols=sized,
                             ncols=None if sized else 80, nrows=None if sized else 24)

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def advance(self, steps: int = 1, note: str | None = None) -> None:
        """Move the bar; ``note`` replaces the text shown after it (in the same redraw)."""
        if self._bar is not None:
            if note is not None:
                self._bar.set_postfix_str(note, refresh=False)
            self._bar.update(steps)

    def note(self, text: str) -> None:
        """Show ``text`` (the current phase: "baseline", "repeat 2"...) after the bar."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
