"""Result cache, --shard, and the --fix/--diff command line."""

import json


from conftest import cnlint, write


GO = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println(1) }\n'


def files(n):
    out = {f"p{i}/m{i}.go": GO for i in range(n)}
    out.update({"web/a.ts": "console.log(1)\n", "x.py": "eval('1')\n"})
    return out


def test_cache_hits_equal_uncached_results(project, counted):
    write(project, files(5))
    uncached = cnlint("check", "--format", "json", "--no-cache", "-j", "1").stdout
    counted.clear()
    first = cnlint("check", "--format", "json", "-j", "1").stdout
    assert len(counted) == 7
    counted.clear()
    second = cnlint("check", "--format", "json", "-j", "1").stdout
    assert counted == []  # everything came from the cache
    assert uncached == first == second
    assert (project / ".cnlint_cache" / ".gitignore").read_text().strip().endswith("*")

    # editing one file re-lints only that file
    (project / "p3" / "m3.go").write_text(GO.replace("Println(1)", "Println(2)"))
    counted.clear()
    third = cnlint("check", "--format", "json", "-j", "1").stdout
    assert counted == ["p3/m3.go"]
    assert json.loads(third)["findings"][3]["path"] == "p3/m3.go"


def test_cache_invalidated_by_config_and_rule_changes(project, counted):
    write(project, files(2))
    cnlint("check", "-j", "1")
    counted.clear()
    cnlint("check", "-j", "1", "--rule-option", "TST003.names=['exec']")
    assert counted  # different options: different results
    cnlint("check", "-j", "1")
    counted.clear()
    (project / "testrules.py").write_text((project / "testrules.py").read_text() + "\n# edited\n")
    cnlint("check", "-j", "1")
    assert len(counted) == 4  # editing a custom rule re-lints every file


def test_cached_parallel_run_equals_serial(project):
    write(project, files(40))
    serial = cnlint("check", "--format", "json", "--no-cache", "-j", "1").stdout
    assert cnlint("check", "--format", "json", "-j", "2").stdout == serial
    assert cnlint("check", "--format", "json", "-j", "2").stdout == serial


def test_shards_partition_the_files(project):
    write(project, files(30))
    full = json.loads(cnlint("check", "--format", "json", "--no-cache").stdout)
    parts = [json.loads(cnlint("check", "--format", "json", "--no-cache", "--shard", f"{k}/3").stdout)
             for k in (1, 2, 3)]
    assert sum(p["summary"]["files"] for p in parts) == full["summary"]["files"]
    merged = sorted((f for p in parts for f in p["findings"]), key=lambda f: (f["path"], f["start"]["line"]))
    assert merged == sorted(full["findings"], key=lambda f: (f["path"], f["start"]["line"]))
    assert all(p["findings"] for p in parts)  # 32 files spread over all three shards
    assert cnlint("check", "--shard", "4/3").exit_code == 2


def test_rule_option_from_command_line(project):
    write(project, {"x.py": "eval('1')\nexec('2')\n"})
    r = cnlint("check", "--format", "json", "--rule-option", "TST003.names=['exec']")
    assert [f["start"]["line"] for f in json.loads(r.stdout)["findings"]] == [2]
    r = cnlint("check", "--rule-option", "TST003.nmes=1")
    assert r.exit_code == 2 and "did you mean 'names'" in r.stderr


def test_fix_diff_and_exit_codes(project):
    write(project, {"main.go": GO, "x.py": "eval('1')\n"})
    r = cnlint("check", "--diff")
    assert r.exit_code == 1
    assert "-func main() { fmt.Println(1) }\n+func main() { log.Println(1) }" in r.stdout
    assert (project / "main.go").read_text() == GO  # --diff writes nothing

    r = cnlint("check", "--fix")
    assert (project / "main.go").read_text() == GO.replace("fmt.Println", "log.Println")
    assert "Fixed 1 finding." in r.stdout
    assert r.exit_code == 1  # x.py still has an unfixable finding
    assert "main.go" not in r.stdout.split("Fixed")[0]

    (project / "x.py").write_text("x = 1\n")
    (project / "main.go").write_text(GO)
    r = cnlint("check", "--fix", "--exit-non-zero-on-fix")
    assert r.exit_code == 1  # pre-commit: changed files fail the hook
    r = cnlint("check", "--fix", "--exit-non-zero-on-fix")
    assert r.exit_code == 0 and "Fixed" not in r.stdout  # second run changes nothing


def test_merge_sarif_of_shards_equals_one_run(project):
    from test_sarif import validate

    write(project, files(25))
    write(project, {"bin.go": b"package x\x00"})  # a notification in one of the shards
    full = json.loads(cnlint("check", "--format", "sarif", "--no-cache").stdout)
    for k in (1, 2, 3):
        r = cnlint("check", "--no-cache", "--shard", f"{k}/3", "--sarif-output", f"s{k}.sarif", "-q")
        assert r.exit_code in (0, 1)
        assert json.loads((project / f"s{k}.sarif").read_text())["runs"][0]["automationDetails"]["id"] \
            == f"cnlint/shard-{k}-of-3/"
    r = cnlint("merge-sarif", "s1.sarif", "s2.sarif", "s3.sarif", "-o", "merged.sarif")
    assert r.exit_code == 0, r.output
    merged = validate(json.loads((project / "merged.sarif").read_text()))
    (run,) = merged["runs"]
    assert run["automationDetails"]["id"] == "cnlint/"

    def key(res, rules):
        loc = res["locations"][0]["physicalLocation"]
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        return (loc["artifactLocation"]["uri"], loc["region"]["startLine"], res["ruleId"],
                res["partialFingerprints"]["cnlint/v1"])

    frun = full["runs"][0]
    assert sorted(key(r, run["tool"]["driver"]["rules"]) for r in run["results"]) == \
        sorted(key(r, frun["tool"]["driver"]["rules"]) for r in frun["results"])
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == \
        [n["message"]["text"] for n in frun["invocations"][0]["toolExecutionNotifications"]]
    assert cnlint("merge-sarif", "s1.sarif", "merged.sarif", "--category", "x").exit_code == 0


def test_cache_key_covers_package_siblings_for_project_rules(project, counted):
    """PERF001 reads the whole Go package: editing a sibling file re-lints the others."""
    write(project, {"pkg/a.go": "package pkg\n\nfunc A() *int { x := 1; return &x }\n",
                    "pkg/b.go": "package pkg\n\nfunc B() int { return 2 }\n"})
    cnlint("check", "-j", "1", "--select", "PERF001")
    counted.clear()
    (project / "pkg" / "b.go").write_text("package pkg\n\nfunc B() int { return 3 }\n")
    cnlint("check", "-j", "1", "--select", "PERF001")
    assert sorted(counted) == ["pkg/a.go", "pkg/b.go"]


def test_concurrent_runs_share_the_cache_safely(project):
    """Two parallel runs (each with two workers) write the same cache at once:
    both report what an uncached run reports, and a third run reads every file
    from the cache (a write lost to a busy database would show up as a miss)."""
    import subprocess
    import sys

    write(project, files(120))
    serial = json.loads(cnlint("check", "--format", "json", "--no-cache", "-j", "1").stdout)
    cmd = [sys.executable, "-m", "cnlint.cli", "check", "--format", "json", "-j", "2"]
    runs = [subprocess.Popen(cmd, cwd=project, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [json.loads(p.communicate(timeout=300)[0]) for p in runs]
    assert all(o["findings"] == serial["findings"] for o in outs)
    profile = subprocess.run(cmd + ["--profile"], cwd=project, capture_output=True, text=True, timeout=300)
    assert json.loads(profile.stdout)["findings"] == serial["findings"]
    assert "parse go" not in profile.stderr  # nothing was parsed: all 122 files were cache hits
    assert "check (read, parse, rules)" in profile.stderr
