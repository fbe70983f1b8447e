"""The result cache's trust model: data only, keyed by a per-user secret, never
through a symlink, never when git tracks it, rebuilt when its schema is wrong."""

import glob
import json
import os
import pickle
import shutil
import sqlite3
import stat
import subprocess

import cnlint.cache as cache_mod
import pytest
from cnlint.model import result_from_data
from conftest import cnlint, write

GO = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println(1) }\n'
FILES = {"a.go": GO, "b/b.go": GO, "x.py": "eval('1')\n", "clean.py": "x = 1\n"}


@pytest.fixture(autouse=True)
def secret(tmp_path_factory, monkeypatch):
    """A secret of this test's own, outside the project."""
    path = tmp_path_factory.mktemp("usercache") / "cnlint" / "secret"
    monkeypatch.setenv(cache_mod.SECRET_ENV, str(path))
    return path


def check_json():
    r = cnlint("check", "--format", "json", "-j", "1")
    return r.exit_code, json.loads(r.stdout)


def database(project) -> str:
    (path,) = glob.glob(str(project / ".cnlint_cache" / "v2" / "*.sqlite"))
    return path


def test_secret_is_private_and_makes_the_database_name_unpredictable(project, secret, tmp_path_factory,
                                                                      monkeypatch):
    write(project, FILES)
    cnlint("check", "-j", "1")
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600 and len(secret.read_bytes()) == 32
    first = database(project)
    monkeypatch.setenv(cache_mod.SECRET_ENV, str(tmp_path_factory.mktemp("other") / "secret"))
    cnlint("check", "-j", "1")
    names = glob.glob(str(project / ".cnlint_cache" / "v2" / "*.sqlite"))
    assert len(names) == 2 and first in names  # same rules, another user: another database


def test_no_secret_means_no_cache_and_no_error(project, monkeypatch, counted):
    write(project, FILES)
    (project / "afile").write_text("x")
    monkeypatch.setenv(cache_mod.SECRET_ENV, str(project / "afile" / "secret"))  # cannot be created
    uncached = cnlint("check", "--format", "json", "--no-cache", "-j", "1")
    r = cnlint("check", "--format", "json", "-j", "1")
    assert r.exit_code == 1 and r.stdout == uncached.stdout
    assert not (project / ".cnlint_cache").exists()


def test_planted_entries_neither_run_code_nor_change_results(project, counted, tmp_path):
    """A pickle that would run code and a forged clean result sit at the right
    keys: both are misses, and the results are those of an uncached run."""
    write(project, FILES)
    expected = check_json()
    db = sqlite3.connect(database(project))
    keys = [k for (k,) in db.execute("SELECT key FROM results")]
    assert len(keys) == len(FILES)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    forged_clean = json.dumps(["a.go", True, [], [], []]).encode()
    for i, key in enumerate(keys):
        value = pickle.dumps(Evil()) if i % 2 else forged_clean
        db.execute("UPDATE results SET value = ?, mac = ? WHERE key = ?", (value, b"\0" * 16, key))
    db.commit()
    db.close()
    counted.clear()
    assert check_json() == expected
    assert sorted(counted) == sorted(FILES)  # every planted entry was a miss
    assert not marker.exists()
    counted.clear()
    assert check_json() == expected and counted == []  # and was replaced by a real one


@pytest.mark.parametrize("bad", [
    None, [], {"path": "a.go"}, ["a.go", 1, [], [], []], ["a.go", True, [], [], [], []],
    ["a.go", True, [["a.go", [1, 1, 1, 2, 0, 1, 1, 2], "R", "m", "fatal", "", None, [], "", "", None, "", None]],
     [], []],  # unknown severity
    ["a.go", True, [["a.go", [1, 1, 1, 2, -1, 1, 1, 2], "R", "m", "error", "", None, [], "", "", None, "", None]],
     [], []],  # negative offset
    ["a.go", True, [["a.go", [1, 1, 1, 2, 5, 1, 1, 2], "R", "m", "error", "", None, [], "", "", None, "", None]],
     [], []],  # end before start
    ["a.go", True, [["a.go", [1, 1, 1, 2, 0, 1, 1, True], "R", "m", "error", "", None, [], "", "", None, "", None]],
     [], []],  # a bool is not an int
    ["a.go", True, [["a.go", [1, 1, 1, 2, 0, 1, 1, 2], "R", "m", "error", "", ["d", "sometimes", []], [], "", "",
                     None, "", None]], [], []],  # unknown applicability
    ["a.go", True, [], [], [["skipped", "a.go", "m"]]],
    ["a.go", True, [], [], [["exploded", "a.go", "m", ""]]],
])
def test_malformed_data_is_rejected(bad):
    with pytest.raises(ValueError):
        result_from_data(bad)


def test_authentic_but_malformed_entry_is_a_miss(project):
    """Even with a valid MAC (only the secret's owner can make one), data that
    does not validate is a miss, not an exception."""
    write(project, FILES)
    cnlint("check", "-j", "1")
    path = database(project)
    salt = os.path.basename(path)[:-len(".sqlite")]
    c = cache_mod.Cache(str(project), salt)
    key = c.key("x.py", b"eval('1')\n")
    value = json.dumps(["x.py", True, [[1]], [], []]).encode()
    c._pending.append((key, value, c._mac(key, value)))
    c.flush()
    assert c.get(key) is None and c.misses == 1
    c.close()


@pytest.mark.parametrize("shape", ["CREATE TABLE results (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
                                   "CREATE VIEW results AS SELECT 1 AS key", "not a database"])
def test_wrong_schema_is_rebuilt_once_and_then_used(project, counted, shape):
    write(project, FILES)
    expected = check_json()
    path = database(project)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    if shape == "not a database":
        with open(path, "wb") as f:
            f.write(b"garbage" * 100)
    else:
        db = sqlite3.connect(path)
        db.execute(shape)
        db.commit()
        db.close()
    counted.clear()
    assert check_json() == expected
    assert len(counted) == len(FILES)
    counted.clear()
    assert check_json() == expected
    assert counted == []  # the rebuilt cache is used again


@pytest.mark.parametrize("link", [".cnlint_cache", ".cnlint_cache/v2", ".cnlint_cache/.gitignore"])
def test_symlinks_are_never_followed(project, tmp_path_factory, link):
    write(project, FILES)
    victim = tmp_path_factory.mktemp("victim")
    target = victim / "target"
    if link.endswith(".gitignore"):
        target.write_text("keep me\n")
    else:
        target.mkdir()
    (project / link).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, project / link)
    r = cnlint("check", "-j", "1")
    assert r.exit_code == 1  # the run goes on: findings reported
    assert "result cache not used" in r.stderr and "symbolic link" in r.stderr
    assert r.stderr.count("result cache not used") == 1
    if link.endswith(".gitignore"):
        assert target.read_text() == "keep me\n"
    else:
        assert os.listdir(target) == []
    assert os.listdir(victim) == ["target"]


def test_symlinked_database_is_not_opened(project, tmp_path_factory):
    write(project, FILES)
    cnlint("check", "-j", "1")
    path = database(project)
    victim = tmp_path_factory.mktemp("victim") / "db"
    victim.write_bytes(b"")
    os.unlink(path)
    os.symlink(victim, path)
    r = cnlint("check", "-j", "1")
    assert r.exit_code == 1 and "symbolic link" in r.stderr
    assert victim.read_bytes() == b""


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_cache_tracked_by_git_is_not_used(project, counted):
    write(project, FILES)
    write(project, {".cnlint_cache/README": "committed by someone\n"})
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "-f", ".cnlint_cache/README"], cwd=project, check=True)
    for _ in range(2):
        counted.clear()
        r = cnlint("check", "-j", "1")
        assert r.exit_code == 1 and len(counted) == len(FILES)  # nothing read from the cache
        assert r.stderr.count("git tracks this directory") == 1
    assert os.listdir(project / ".cnlint_cache") == ["README"]  # nothing written either
