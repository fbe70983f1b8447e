"""Writing a report file: atomically, so a reader never sees half of one."""

from __future__ import annotations

import os
import stat
import tempfile


def write_report(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file in the same
    directory, renamed over ``path`` once complete, so a full disk or a crash
    leaves the old file (or none), never a truncated one. Missing parent
    directories are created. A device or pipe (``/dev/stdout``) is written
    directly. Raises OSError."""
    if _is_stream(path):  # /dev/stdout, a pipe: nothing to rename over
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return
    # A symlink at the path is replaced, not written through: a link committed to
    # a repository cannot send the report to a file outside it.
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path)[:100] + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:  # keep an existing report's permissions
            st = os.stat(path, follow_symlinks=False)
            mode = st.st_mode & 0o7777 if stat.S_ISREG(st.st_mode) else 0o666 & ~_umask()
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _is_stream(path: str) -> bool:
    """``/dev/stdout`` and the like, or a FIFO the user made; not a symlink."""
    if os.path.abspath(path).startswith(("/dev/", "/proc/")):
        return True
    try:
        return stat.S_ISFIFO(os.stat(path, follow_symlinks=False).st_mode)
    except OSError:
        return False
