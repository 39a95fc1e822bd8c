"""One run at a time per output folder.

Two runs writing the same folder would interleave their outputs; the second one
waits for the lock (up to ``lock_timeout_s``) and then gives up with a message
naming the run that holds it. The lock is an OS file lock (``filelock``), so a run
that is killed releases it at once: there are no stale locks to clean by hand.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from .catalog import LOCK_FILE
from .catalog import LOCK_HOLDER as HOLDER_FILE  # who holds it, for the message the next run shows
from .runlog import command_line


class OutputLocked(RuntimeError):
    """Another run holds the output folder's lock."""


def _holder(out_dir: Path) -> str:
    try:
        info = json.loads((out_dir / HOLDER_FILE).read_text(encoding="utf-8"))
        return f"pid {info['pid']}, `{info['command']}`, since {info['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


@contextmanager
def hold(
    out_dir: Path, timeout_s: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold ``out_dir``'s lock for the block; wait up to ``timeout_s`` for another run to finish."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(out_dir / LOCK_FILE)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = _holder(out_dir)
        if timeout_s <= 0:
            raise OutputLocked(
                f"{out_dir} is in use by another insights run ({holder}); "
                "try again when it has finished"
            ) from None
        if on_wait:
            on_wait(
                f"{out_dir} is in use by another insights run ({holder}); waiting up to "
                f"{timeout_s:g} s"
            )
        try:
            lock.acquire(timeout=timeout_s)
        except Timeout:
            raise OutputLocked(
                f"{out_dir} is still in use by another insights run ({holder}) after "
                f"{timeout_s:g} s; try again when it has finished (or raise lock_timeout_s)"
            ) from None
    try:
        (out_dir / HOLDER_FILE).write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "command": " ".join(
                        command_line().split()[:2]
                    ),  # "insights run": its arguments may hold names
                    "started": datetime.now().replace(microsecond=0).isoformat(sep=" "),
                    "since_epoch": time.time(),
                }
            ),
            encoding="utf-8",
        )
        yield
    finally:
        try:
            (out_dir / HOLDER_FILE).unlink()
        except OSError:
            pass
        lock.release()
