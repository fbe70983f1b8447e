"""Per-file result cache in ``.cnlint_cache/``.

An entry is keyed by the file's path and content hash, inside a directory
named by the *salt*: cnlint's version, the resolved rule set (ids, options,
severities, per-file ignores, size limit) and the source of every enabled rule
module (so editing a custom rule invalidates its results). Rules that read
project facts (``uses_project = True``) add the stamps of the manifests they
may read (package.json, lockfiles, tsconfig.json, go.mod, go.sum) to the key,
so ``npm install`` or a go.mod bump re-lints the files that depend on them.

Entries live in one SQLite database per salt, written in batches (see
``Cache``); concurrent runs are safe, and a corrupt or unreadable entry is a
miss, never an error.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import pickle
import sqlite3
import time
from typing import Any

from . import __version__
from .model import FileResult

CACHE_DIR = ".cnlint_cache"
FORMAT = "v1"
PROJECT_FILES = ("package.json", "package-lock.json", "pnpm-lock.yaml", "yarn.lock", "tsconfig.json",
                 "go.mod", "go.sum", ".nvmrc", ".node-version")


def salt(enabled, registry, selection, cfg) -> str:
    h = hashlib.sha256()
    h.update(f"{FORMAT}\0{__version__}\0".encode())
    sources = set()
    for rid in sorted(enabled):
        info = registry.rules[rid]
        h.update(json.dumps([rid, selection.options.get(rid, {}), selection.severities[rid].value],
                            sort_keys=True, default=str).encode())
        for cls in info.impls.values():
            try:
                sources.add(inspect.getsourcefile(cls) or "")
            except TypeError:
                pass
    # A rule's helpers live next to it (rules/perf/go_flow.py, ...): hash every
    # module of the rule's folder, not only the file that defines the class.
    files = set()
    for path in sources:
        d = os.path.dirname(path)
        try:
            files |= {os.path.join(d, n) for n in os.listdir(d) if n.endswith(".py")}
        except OSError:
            files.add(path)
    for path in sorted(files):
        try:
            with open(path, "rb") as f:
                h.update(path.encode() + hashlib.sha256(f.read()).digest())
        except OSError:
            h.update(path.encode())
    h.update(json.dumps([cfg.per_file_ignores, cfg.max_file_size], sort_keys=True).encode())
    return h.hexdigest()[:24]


def project_stamp(directory: str, ext: str = "", memo: dict | None = None) -> str:
    """Stamps (mtime, size) of the project files that enclose ``directory``, and
    of the files with extension ``ext`` beside it (a Go package's other files,
    which whole-package rules such as PERF001 read). ``memo`` keeps each
    enclosing directory's stamps for the run (many directories share them)."""
    parts = []
    if ext:
        try:
            for entry in sorted(os.scandir(directory), key=lambda e: e.name):
                if entry.name.endswith(ext) and entry.is_file():
                    st = entry.stat()
                    parts.append(f"{entry.name}:{st.st_mtime_ns}:{st.st_size}")
        except OSError:
            pass
    parts.extend(_enclosing_stamps(os.path.abspath(directory), {} if memo is None else memo))
    return "|".join(parts)


def _enclosing_stamps(d: str, memo: dict) -> list[str]:
    """Stamps of the project files in ``d`` and its parents, nearest first."""
    out = memo.get(d)
    if out is None:
        out = []
        for name in PROJECT_FILES:
            try:
                st = os.stat(os.path.join(d, name))
                out.append(f"{d}/{name}:{st.st_mtime_ns}:{st.st_size}")
            except OSError:
                pass
        parent = os.path.dirname(d)
        if parent != d:
            out = out + _enclosing_stamps(parent, memo)
        memo[d] = out
    return out


class Cache:
    """One SQLite database per salt (``.cnlint_cache/v1/<salt>.sqlite``).

    A file per entry cost more than linting on some file systems (creating
    ~6,000 small files took 6 s of system time for the Go standard library);
    SQLite writes a batch of entries in one transaction. WAL mode lets the
    pool's workers and concurrent runs read while one of them writes; a busy
    database is waited for, and a broken or unwritable one turns the cache
    off for the run (linting goes on)."""

    BATCH = 64  # entries per transaction

    def __init__(self, root: str, salt_value: str):
        self.base = os.path.join(root, CACHE_DIR)
        self.path = os.path.join(self.base, FORMAT, salt_value + ".sqlite")
        self.hits = 0
        self.misses = 0
        self._db: sqlite3.Connection | None = None
        self._off = False
        self._pending: list[tuple[str, bytes]] = []

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None and not self._off:
            # Switching a new database to WAL takes an exclusive lock that does not
            # wait for others: workers opening it at the same moment retry (the
            # runner also creates it before starting them).
            for attempt in range(10):
                try:
                    os.makedirs(os.path.dirname(self.path), exist_ok=True)
                    self._ensure_gitignore()
                    db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
                    try:
                        db.execute("PRAGMA journal_mode=WAL")
                        db.execute("PRAGMA synchronous=NORMAL")  # a cache: the last batch may be lost, never torn
                        db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
                    except sqlite3.Error:
                        db.close()
                        raise
                    self._db = db
                    break
                except sqlite3.OperationalError:
                    time.sleep(0.02 * (attempt + 1))
                except (OSError, sqlite3.Error):
                    break
            if self._db is None:
                self._off = True
        return self._db

    def prepare(self) -> None:
        """Create the database (before the pool's workers open it), then let go of it."""
        if self._conn() is not None:
            self.close()

    def key(self, path: str, data: bytes, extra: str = "") -> str:
        h = hashlib.sha256(data)
        h.update(b"\0" + path.encode("utf-8", "surrogateescape") + b"\0" + extra.encode())
        return h.hexdigest()

    def get(self, key: str) -> FileResult | None:
        db = self._conn()
        value = None
        if db is not None:
            try:
                # fetchall: a cursor left open keeps a read snapshot, and this
                # connection could then not start a write transaction
                rows = db.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchall()
                row = rows[0] if rows else None
                value = pickle.loads(row[0]) if row is not None else None
            except (sqlite3.Error, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError,
                    TypeError):
                value = None
        if not isinstance(value, FileResult):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, key: str, value: Any) -> None:
        if self._off:
            return
        self._pending.append((key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)))
        if len(self._pending) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the pending entries (the runner calls this after each chunk of files)."""
        pending, self._pending = self._pending, []
        db = self._conn() if pending else None
        if db is None:
            return
        for attempt in range(5):
            try:
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT OR REPLACE INTO results (key, value) VALUES (?, ?)", pending)
                db.execute("COMMIT")
                return
            except sqlite3.Error:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                time.sleep(0.05 * (attempt + 1))  # busy beyond the timeout: try again, then give up

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None

    def _ensure_gitignore(self) -> None:
        marker = os.path.join(self.base, ".gitignore")
        if not os.path.exists(marker):
            try:
                with open(marker, "w", encoding="utf-8") as f:
                    f.write("# Created by cnlint automatically.\n*\n")
            except OSError:
                pass
