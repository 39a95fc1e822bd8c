"""Atomic writes: every output goes to a temporary beside its target, then is renamed.

An interrupted run never leaves half a file behind. Inside :func:`together`, the
renames wait until the whole stage has succeeded and then happen in one short burst
with SIGINT/SIGTERM held back, so an interrupted stage leaves the previous outputs
of that stage as they were, not half old and half new.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

TMP_SUFFIX = ".tmp"  # every temporary this package writes is ".<name>.<random>.tmp"


class _Batch:
    """Renames waiting for the end of a stage, and the temporaries they will rename."""

    def __init__(self) -> None:
        self.actions: list[Callable[[], None]] = []
        self.temporaries: list[Path] = []
        self.pending: dict[Path, Path] = {}  # target -> temporary holding its new content


_batch: ContextVar[_Batch | None] = ContextVar("artifact_batch", default=None)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _commit(actions: list[Callable[[], None]]) -> None:
    # Ctrl-C during the renames would leave a mix of old and new outputs: note the
    # signals that arrive during the few milliseconds they take and act on them after.
    # (Masking is not enough: the OS may deliver the signal to a BLAS or torch thread,
    # and Python then raises in the main thread anyway.)
    import threading

    if threading.current_thread() is not threading.main_thread():
        for action in actions:
            action()
        return
    caught: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, frame: caught.append(signum))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        for action in actions:
            action()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for signum in caught[:1]:
        signal.raise_signal(signum)  # now, with the outputs whole


@contextmanager
def together() -> Iterator[None]:
    """Make every write inside the block visible at once, when the block succeeds.

    If the block raises (or the process is killed), no target is touched and the
    temporaries are removed (a killed run's are removed by the next run's
    :func:`remove_leftovers`).
    """
    if _batch.get() is not None:  # nested: the outer block commits
        yield
        return
    batch = _Batch()
    token = _batch.set(batch)
    try:
        yield
        _batch.reset(token)
        token = None
        _commit(batch.actions)
    finally:
        if token is not None:
            _batch.reset(token)
        for tmp in batch.temporaries:
            _remove(tmp)


def pending_outputs() -> dict[Path, Path]:
    """Targets the open batch will write, each with the temporary that holds its new content."""
    batch = _batch.get()
    return dict(batch.pending) if batch else {}


def sha256_file(path: Path) -> str:
    """sha256 of a file, or of a folder's files and their relative paths; each file hashed once per
    process while its size and mtime stay the same (lineage checks read the same outputs often)."""
    path = Path(path)
    if path.is_dir():
        h = hashlib.sha256()
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(child.relative_to(path).as_posix().encode() + b"\0")
            h.update(sha256_file(child).encode())
        return h.hexdigest()
    stat = path.stat()
    return _sha256_of(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=512)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def defer(target: Path, tmp: Path, action: Callable[[], None]) -> None:
    """Run ``action`` (which moves ``tmp`` onto ``target``) at the end of the open batch, or now."""
    batch = _batch.get()
    if batch is None:
        action()
        return
    batch.temporaries.append(tmp)
    batch.pending[Path(target)] = tmp
    batch.actions.append(action)


@contextmanager
def atomic_path(target: Path, now: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    Inside :func:`together` the rename waits for the end of the block unless ``now``
    (for caches, whose content is worth keeping even if the stage later fails).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    handed_over = False
    try:
        yield tmp_path
        if now:
            os.replace(tmp_path, target)
        else:
            defer(target, tmp_path, lambda: os.replace(tmp_path, target))
            handed_over = _batch.get() is not None
    finally:
        if not handed_over and tmp_path.exists():
            tmp_path.unlink()


def replace_folder(build: Callable[[Path], None], target: Path, now: bool = False) -> Path:
    """Build a folder beside ``target`` with ``build(tmp)`` and swap it in whole.

    Inside :func:`together` the swap waits for the end of the block unless ``now`` (as for
    :func:`atomic_path`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=target.parent))
    try:
        build(tmp)
    except BaseException:
        _remove(tmp)
        raise

    def swap() -> None:
        old = target.with_name(f".{target.name}.old{TMP_SUFFIX}")
        _remove(old)
        if target.exists():
            target.rename(old)
        tmp.rename(target)
        _remove(old)

    if now:
        swap()
    else:
        defer(target, tmp, swap)
    return target


_OWN_TMP = re.compile(r"^\.[^/]+\.(?:[a-z0-9_]{8}|old)\.tmp$")  # ".<name>.<mkstemp's 8 chars>.tmp"


def remove_leftovers(out_dir: Path, folders: tuple[str, ...] = ()) -> list[Path]:
    """Delete temporaries a killed run left behind (call only while holding the output lock).

    Args:
        out_dir: the output folder.
        folders: the folders below ``out_dir`` that stages write to (the catalog's).

    Returns:
        The temporaries removed (or put back, for a folder swap cut short).

    Only our own temporaries, only in OUT and the folders stages write to: never in
    anything else that happens to sit in OUT.
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return []
    places = [out_dir] + [out_dir / name for name in folders if (out_dir / name).is_dir()]
    found = [
        p
        for place in places
        for p in (place.rglob(".*.tmp") if place.name == "cache" else place.glob(".*.tmp"))
        if _OWN_TMP.match(p.name)
    ]
    for path in sorted(found, key=lambda p: len(p.parts), reverse=True):
        original = (
            path.with_name(path.name[1 : -len(f".old{TMP_SUFFIX}")])
            if path.name.endswith(f".old{TMP_SUFFIX}")
            else None
        )
        if original is not None and not original.exists():
            path.rename(
                original
            )  # killed between the two renames of a folder swap: put the old one back
        else:
            _remove(path)
    return found
