"""Writing a report file: atomically, so a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile


def write_report(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file in the same
    directory, renamed over ``path`` once complete, so a full disk or a crash
    leaves the old file (or none), never a truncated one. Missing parent
    directories are created. Raises OSError."""
    path = os.path.realpath(path)  # through a symlink, as a plain open() would write
    if os.path.exists(path) and not os.path.isfile(path):  # /dev/stdout, a pipe: nothing to rename over
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path)[:100] + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = os.stat(path).st_mode & 0o7777  # keep an existing report's permissions
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
