"""Per-file result cache in ``.cnlint_cache/``.

An entry is keyed by the file's path and content hash, inside a database
named by the *salt*: cnlint's version, the resolved rule set (ids, options,
severities, per-file ignores, size limit), the source of every enabled rule
module (so editing a custom rule invalidates its results) and a per-user
secret. Rules that read project facts (``uses_project = True``) add the stamps
of the manifests they may read (package.json, lockfiles, tsconfig.json, go.mod,
go.sum) to the key, so ``npm install`` or a go.mod bump re-lints the files that
depend on them.

Trust model (docs/security.md, "The result cache"): the cache directory lives
in the repository being linted, so its content is treated as hostile.

- Entries are JSON data, rebuilt into the model's dataclasses with every type,
  enum value and span checked (``model.result_from_data``): nothing stored can
  run code, and anything malformed is a miss.
- The secret (32 random bytes, mode 0600, in the user's cache directory) makes
  the salt unpredictable, and each value carries a MAC keyed by it: an entry
  written by anyone without the secret is a miss, so a committed or foreign
  cache cannot forge results. Without a secret there is no cache.
- ``open_for_run`` checks the directory once per run: a symlinked
  ``.cnlint_cache``, ``v2``, database or ``.gitignore`` is never followed, and
  a cache that git tracks is not used (each says so in one notice); a database
  of the wrong shape, or not a database, is deleted and recreated.

Entries live in one SQLite database per salt, written in batches (see
``Cache``); concurrent runs are safe, and a corrupt or unreadable entry is a
miss, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import inspect
import json
import os
import sqlite3
import stat
import subprocess
import time

from . import __version__
from .model import FileResult, Notice, NoticeKind, result_from_data, result_to_data

CACHE_DIR = ".cnlint_cache"
FORMAT = "v2"  # v1 held pickles; its directory is left as it was
SECRET_ENV = "CNLINT_CACHE_SECRET"  # path of the secret file, instead of the default
SECRET_BYTES = 32
PROJECT_FILES = ("package.json", "package-lock.json", "pnpm-lock.yaml", "yarn.lock", "tsconfig.json",
                 "go.mod", "go.sum", ".nvmrc", ".node-version")


def salt(enabled, registry, selection, cfg) -> str | None:
    """The database's name for this rule set, or None (no cache) when the
    per-user secret cannot be read or created."""
    key = secret()
    if key is None:
        return None
    h = hashlib.sha256(key)
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
    h.update(json.dumps([cfg.per_file_ignores, cfg.max_file_size, cfg.test_code, cfg.extend_test_code,
                         cfg.generated_code, cfg.extend_generated_code], sort_keys=True).encode())
    return h.hexdigest()[:24]


def user_cache_dir() -> str:
    """``$XDG_CACHE_HOME/cnlint``, else ``~/.cache/cnlint``: the user's, outside
    every repository (the secret, and caches keyed by content only)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "cnlint")


def secret_path() -> str:
    """``$CNLINT_CACHE_SECRET``, else ``user_cache_dir()/secret``."""
    return os.environ.get(SECRET_ENV) or os.path.join(user_cache_dir(), "secret")


_secrets: dict[str, bytes | None] = {}


def secret() -> bytes | None:
    """The per-user secret (read once per process and path), created on first
    use; None when it can be neither read nor created."""
    path = secret_path()
    if path not in _secrets:
        _secrets[path] = _read_secret(path) or _create_secret(path)
    return _secrets[path]


def _read_secret(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            data = f.read(SECRET_BYTES)
    except OSError:
        return None
    return data if len(data) == SECRET_BYTES else None


def _create_secret(path: str) -> bytes | None:
    try:
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return _read_secret(path)  # another run created it at this moment
    except OSError:
        return None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(SECRET_BYTES))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(path)  # a short secret would disable the cache for good
        return None
    return _read_secret(path)


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


def open_for_run(root: str, salt_value: str | None, notices: list[Notice]) -> str | None:
    """Once per run, in the main process, before any worker opens the cache:
    returns ``salt_value`` when the cache in ``root`` may be used (its
    directories and database now exist with the right schema), else None, with
    a notice when the repository itself is the reason."""
    if salt_value is None:
        return None
    base = os.path.join(root, CACHE_DIR)
    if _tracked_by_git(root):
        notices.append(Notice(NoticeKind.SKIPPED, os.path.relpath(base), "result cache not used: git tracks this "
                                                                   "directory (a committed cache is never trusted)"))
        return None
    folder = os.path.join(base, FORMAT)
    db = os.path.join(folder, salt_value + ".sqlite")
    gitignore = os.path.join(base, ".gitignore")
    for path, want_dir in ((base, True), (folder, True), (gitignore, False), (db, False), (db + "-wal", False),
                           (db + "-shm", False)):
        problem = _not_ours(path, want_dir)
        if problem:
            notices.append(Notice(NoticeKind.SKIPPED, os.path.relpath(path), f"result cache not used: {problem}"))
            return None
    if not (_make_dir(base) and _make_dir(folder)):
        return None  # a read-only checkout: run without the cache
    _write_gitignore(gitignore)
    return salt_value if Cache(root, salt_value).prepare() else None


def _tracked_by_git(root: str) -> bool:
    """Whether git (when there is one) tracks anything under the cache directory.
    core.fsmonitor is switched off: a repository's own .git/config must not
    run a program here."""
    try:
        out = subprocess.run(["git", "-c", "core.fsmonitor=false", "ls-files", "-z", "--", CACHE_DIR],
                             cwd=root, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and bool(out.stdout)


def _not_ours(path: str, want_dir: bool) -> str | None:
    """Why ``path`` must not be used (a symlink, or the wrong kind of file), or None."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        return f"cannot inspect it: {e.strerror}"
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link, which cnlint never follows"
    if want_dir != stat.S_ISDIR(st.st_mode):
        return "it is not a directory" if want_dir else "it is not a regular file"
    return None


def _make_dir(path: str) -> bool:
    try:
        os.mkdir(path)  # never through a symlink: mkdir fails on any existing name
    except FileExistsError:
        pass  # checked by _not_ours just before
    except OSError:
        return False
    return True


def _write_gitignore(path: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError:
        return  # exists already (checked to be a regular file), or cannot be written
    with contextlib.suppress(OSError), os.fdopen(fd, "w", encoding="utf-8") as f:  # a full disk: no marker
        f.write("# Created by cnlint automatically.\n*\n")


class Cache:
    """One SQLite database per salt (``.cnlint_cache/v2/<salt>.sqlite``).

    A file per entry cost more than linting on some file systems (creating
    ~6,000 small files took 6 s of system time for the Go standard library);
    SQLite writes a batch of entries in one transaction. WAL mode lets the
    pool's workers and concurrent runs read while one of them writes; a busy
    database is waited for, and a broken or unwritable one turns the cache
    off for the run (linting goes on). A row holds the entry's JSON and its
    MAC (keyed by the secret, over the salt, the key and the JSON), checked
    before the JSON is read.
    """

    BATCH = 64  # entries per transaction
    SCHEMA = "CREATE TABLE results (key TEXT PRIMARY KEY, value BLOB NOT NULL, mac BLOB NOT NULL)"
    # sqlite_master of a database this class created, and nothing else (no view, trigger, other table)
    MASTER = (("table", "results", SCHEMA), ("index", "sqlite_autoindex_results_1", None))

    def __init__(self, root: str, salt_value: str):
        self.base = os.path.join(root, CACHE_DIR)
        self.path = os.path.join(self.base, FORMAT, salt_value + ".sqlite")
        self.hits = 0
        self.misses = 0
        self._secret = secret()
        self._mac_prefix = salt_value.encode() + b"\0"
        self._db: sqlite3.Connection | None = None
        self._off = self._secret is None
        self._pending: list[tuple[str, bytes, bytes]] = []

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None and not self._off:
            self._db = self._open(rebuild=False)
            self._off = self._db is None
        return self._db

    def _open(self, rebuild: bool) -> sqlite3.Connection | None:
        """Connect and check the schema. A database of the wrong shape (or not a
        database) is deleted and created anew when ``rebuild`` (once, in the main
        process), else the cache is off."""
        # Switching a new database to WAL takes an exclusive lock that does not
        # wait for others: workers opening it at the same moment retry (the
        # runner also creates it before starting them).
        for attempt in range(10):
            try:
                db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            except sqlite3.Error:
                return None
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # a cache: the last batch may be lost, never torn
                db.execute(self.SCHEMA.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
                if tuple(db.execute("SELECT type, name, sql FROM sqlite_master")) == self.MASTER:
                    return db
            except sqlite3.OperationalError as e:
                if "locked" in str(e):
                    db.close()
                    time.sleep(0.02 * (attempt + 1))
                    continue
            except sqlite3.Error:
                pass  # not a database, or a corrupt one
            db.close()
            if not rebuild:
                return None
            rebuild = False
            try:
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.path + suffix)
            except OSError:
                return None
        return None

    def prepare(self) -> bool:
        """Create (or rebuild) the database before the pool's workers open it,
        then let go of it; False when it cannot be used."""
        self._db = None if self._off else self._open(rebuild=True)
        ok = self._db is not None
        self.close()
        return ok

    def key(self, path: str, data: bytes, extra: str = "") -> str:
        h = hashlib.sha256(data)
        h.update(b"\0" + path.encode("utf-8", "surrogateescape") + b"\0" + extra.encode())
        return h.hexdigest()

    def _mac(self, key: str, value: bytes) -> bytes:
        # keyed BLAKE2b is a MAC in itself (no HMAC construction needed), and 3x cheaper
        return hashlib.blake2b(self._mac_prefix + key.encode() + b"\0" + value, key=self._secret,
                               digest_size=16).digest()

    def get(self, key: str) -> FileResult | None:
        db = self._conn()
        result = None
        if db is not None:
            try:
                # fetchall: a cursor left open keeps a read snapshot, and this
                # connection could then not start a write transaction
                rows = db.execute("SELECT value, mac FROM results WHERE key = ?", (key,)).fetchall()
            except sqlite3.Error:
                rows = []
            if rows:
                value, mac = rows[0]
                if type(value) is bytes and type(mac) is bytes and hmac.compare_digest(mac, self._mac(key, value)):
                    try:
                        result = result_from_data(json.loads(value.decode()))
                    except (ValueError, RecursionError):
                        result = None
        if result is None:
            self.misses += 1
        else:
            self.hits += 1
        return result

    def put(self, key: str, value: FileResult) -> None:
        if self._off:
            return
        data = json.dumps(result_to_data(value), separators=(",", ":")).encode()
        self._pending.append((key, data, self._mac(key, data)))
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
                db.executemany("INSERT OR REPLACE INTO results (key, value, mac) VALUES (?, ?, ?)", pending)
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
