"""``OUT/run.log``: every message of every run, warnings with the file they concern.

The console shows a run's messages once; the log keeps them next to the outputs
they explain (which files were skipped and why, which conversations were set
apart), appended run after run and rotated at 5 MB. While redaction is on, lines
are held back until the ingest stage knows every name to hide, then written
redacted (see :meth:`RunLog.hold`); a redacted run that is killed loses its lines
rather than leaking them.
"""

from __future__ import annotations

import logging
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from logging.handlers import RotatingFileHandler
from pathlib import Path

from .catalog import RUN_LOG

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RunLog(RotatingFileHandler):
    def __init__(self, out_dir: Path):
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        super().__init__(
            Path(out_dir) / RUN_LOG, maxBytes=5 * 1024 * 1024, backupCount=1, encoding="utf-8"
        )
        self.setFormatter(logging.Formatter(_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
        self.setLevel(logging.INFO)
        self._held: list[logging.LogRecord] | None = None
        self._transform: Callable[[str], str] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "console_only", False):
            return
        if self._held is not None:
            record.msg, record.args = record.getMessage(), None  # freeze the text now
            self._held.append(record)
            return
        if self._transform is not None:
            record = logging.makeLogRecord(record.__dict__)
            record.msg, record.args = self._transform(record.getMessage()), None
        super().emit(record)

    def hold(self) -> None:
        """Keep lines back until :meth:`write_held`: a redacted run must not write a name before it
        knows them all."""
        if self._held is None:
            self._held = []

    def redact_with(self, transform: Callable[[str], str]) -> None:
        """How held and later lines are rewritten before they are written."""
        self._transform = transform

    def write_held(self) -> None:
        """Write the held lines through the transform; without one, leave them out (never write
        them raw)."""
        held, self._held = self._held, None
        if not held:
            return
        if self._transform is None:
            super().emit(
                logging.makeLogRecord(
                    {
                        "name": "pipeline.run",
                        "levelno": logging.WARNING,
                        "levelname": "WARNING",
                        "msg": f"{len(held)} line(s) left out: the redacted run stopped "
                        "before it knew what to hide",
                    }
                )
            )
            return
        for record in held:
            self.emit(record)


def note(level: int, message: str) -> None:
    """Write one line to the run log only (the console has already shown it its own way)."""
    handler = current()
    if handler is not None:
        handler.emit(
            logging.makeLogRecord(
                {
                    "name": "pipeline.run",
                    "levelno": level,
                    "levelname": logging.getLevelName(level),
                    "msg": message,
                }
            )
        )


def current(logger: logging.Logger | None = None) -> RunLog | None:
    logger = logger or logging.getLogger("pipeline")
    return next((h for h in logger.handlers if isinstance(h, RunLog)), None)


@contextmanager
def attached(
    out_dir: Path, hold: bool = False, logger: logging.Logger | None = None
) -> Iterator[RunLog]:
    """Log the command line, everything the ``pipeline`` loggers say, and how the command ended.

    ``hold``: keep every line back until the ingest stage says how to redact them.
    """
    logger = logger or logging.getLogger("pipeline")
    handler = RunLog(out_dir)
    if hold:
        handler.hold()
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        # The file wants INFO even when the console is quiet; the console handler keeps its own
        # level.
        for h in logger.handlers:
            if h is not handler and h.level == logging.NOTSET:
                h.setLevel(logger.level)
        logger.setLevel(logging.INFO)
    note(logging.INFO, f"start: {command_line()}")
    try:
        yield handler
    except BaseException as exc:
        note(logging.ERROR, f"stopped: {_describe(exc)}")
        raise
    else:
        note(logging.INFO, "done")
    finally:
        handler.write_held()
        logger.removeHandler(handler)
        handler.close()


def command_line() -> str:
    program = Path(sys.argv[0]).name
    program = "insights" if program in ("__main__.py", "-m") else program
    return " ".join(shlex.quote(a) for a in [program, *sys.argv[1:]])


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    code = (
        getattr(exc, "exit_code", getattr(exc, "code", None))
        if isinstance(exc, (SystemExit, RuntimeError))
        else None
    )
    if code is not None and type(exc).__name__ in ("Exit", "SystemExit"):  # typer.Exit / sys.exit
        return f"exit status {code}"
    return f"{type(exc).__name__}: {exc}"
