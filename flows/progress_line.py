"""dbt's hundreds of node lines folded into one progress line on a terminal.

`flows.dbt_runner` logs each node dbt finishes as a DEBUG record on its progress logger;
while a command runs, `progress_line` shows the latest as one line that updates in place
(Rich's status line) and ends when dbt does. With `--verbose`, or when the output is not a
terminal (a log file, cron), the records are not folded: `--verbose` prints them as lines,
otherwise only dbt's one summary line per command is printed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.status import Status

from flows.dbt_runner import progress_log


class ProgressLine(logging.Handler):
    """One status line on `console`, updated by each progress record."""

    def __init__(self, console: Console) -> None:
        super().__init__(logging.DEBUG)
        self.console = console
        self.status: Status | None = None

    def emit(self, record: logging.LogRecord) -> None:
        progress = getattr(record, "dbt_progress", None)
        if progress is None:
            return
        failed = f", {progress.failed} failed" if progress.failed else ""
        text = (
            f"dbt {progress.command}: {progress.done}/{progress.total or '?'} done{failed}"
            f" [dim]{getattr(record, 'dbt_node', '')}[/]"
        )
        if self.status is None:
            self.status = self.console.status(text)
            self.status.start()
        else:
            self.status.update(text)

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


@contextmanager
def progress_line(console: Console, *, verbose: bool) -> Iterator[None]:
    """While the block runs, dbt's progress is one line on `console` (a terminal, not
    `--verbose`)."""
    if verbose or not console.is_terminal:
        yield
        return
    handler = ProgressLine(console)
    progress_log.setLevel(logging.DEBUG)
    progress_log.propagate = False
    progress_log.addHandler(handler)
    try:
        yield
    finally:
        handler.stop()
        progress_log.removeHandler(handler)
        progress_log.propagate = True
        progress_log.setLevel(logging.NOTSET)
