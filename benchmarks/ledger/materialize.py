"""Materialise the ledger's repositories at their pinned commits, outside git.

A repository comes from a local mirror (``<mirrors>/<owner>+<name>/repo``, a
git directory as the session's ``fetch`` leaves it) or, without one, from a
shallow clone of https://github.com/<owner>/<name>. Blobs a mirror lacks (its
largest files may be absent) are skipped and counted: the ledger lints what is
there, and the counts say what was not.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Materialised:
    path: Path
    files: int
    missing: int


def _git_dir(mirror: Path) -> Path | None:
    for candidate in (mirror / "repo" / ".git", mirror / "repo", mirror):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def _clone(repo: str, commit: str, into: Path) -> Path:
    scratch = into.with_name(into.name + ".clone")
    shutil.rmtree(scratch, ignore_errors=True)
    subprocess.run(["git", "init", "-q", str(scratch)], check=True)
    git = ["git", "-C", str(scratch)]
    subprocess.run([*git, "fetch", "-q", "--depth=1", f"https://github.com/{repo}", commit], check=True)
    return scratch / ".git"


def materialise(repo: str, commit: str, into: Path, mirrors: Path | None) -> Materialised:
    """Write the tree of ``repo`` at ``commit`` into ``into`` (replacing it)."""
    git_dir = _git_dir(mirrors / repo.replace("/", "+")) if mirrors else None
    if git_dir is None:
        git_dir = _clone(repo, commit, into)
    git = ["git", "--git-dir", str(git_dir)]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", commit], check=True,
                             capture_output=True).stdout.split(b"\0")
    blobs = []
    for entry in filter(None, listing):
        meta, name = entry.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode != b"120000":  # symlinks are not followed by a linter run anyway
            blobs.append((sha.decode(), name.decode("utf-8", "surrogateescape")))
    shutil.rmtree(into, ignore_errors=True)
    (into / ".git").mkdir(parents=True)  # marks the repository root for cnlint's config discovery
    batch = subprocess.Popen([*git, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    files = missing = 0
    for sha, name in blobs:
        batch.stdin.write(sha.encode() + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if header[1:2] == [b"missing"]:
            missing += 1
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)  # the newline after the object
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        files += 1
    batch.stdin.close()
    batch.wait()
    if git_dir.parent.name.endswith(".clone"):
        shutil.rmtree(git_dir.parent, ignore_errors=True)
    return Materialised(into, files, missing)
