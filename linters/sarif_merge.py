"""``cnlint merge-sarif``: merge the SARIF logs of sharded runs into one run.

GitHub code scanning rejects two runs with the same tool and category in one
upload, and a monorepo linted by a CI matrix (``--shard K/N``) produces one log
per job. Merging gives one run: rules and notification descriptors are
united by id and re-indexed, results keep their fingerprints and are sorted
by location, invocations are folded into one (successful only if all were).
"""

from __future__ import annotations

import json
import re

_SHARD_SUFFIX = re.compile(r"shard-\d+-of-\d+/?$")


class MergeError(Exception):
    pass


def _reindex(ref: dict | None, old: list[dict], new_index: dict[str, int]) -> None:
    if ref is None:
        return
    rid = ref.get("id")
    if rid is None and "index" in ref and 0 <= ref["index"] < len(old):
        rid = old[ref["index"]]["id"]
        ref["id"] = rid
    if rid in new_index:
        ref["index"] = new_index[rid]


def _check(log, number: int) -> None:
    """Enough of the SARIF shape for merging; anything else is a clean error."""
    def bad(why: str) -> MergeError:
        return MergeError(f"input {number} is not a SARIF log: {why}")

    if not isinstance(log, dict):
        raise bad(f"expected a JSON object, found {type(log).__name__}")
    runs = log.get("runs")
    if not isinstance(runs, list):
        raise bad('no "runs" array')
    for run in runs:
        driver = run.get("tool", {}).get("driver") if isinstance(run, dict) and isinstance(run.get("tool"), dict) \
            else None
        if not isinstance(driver, dict):
            raise bad('a run without "tool.driver"')
        for key in ("results", "invocations"):
            if not isinstance(run.get(key, []), list):
                raise bad(f'"{key}" is not an array')


def merge(logs: list[dict], category: str | None = None) -> dict:
    for i, log in enumerate(logs, start=1):
        _check(log, i)
    runs = [run for log in logs for run in log["runs"]]
    if not runs:
        raise MergeError("no runs to merge")
    names = {r["tool"]["driver"].get("name") for r in runs}
    if len(names) != 1:
        raise MergeError(f"cannot merge runs of different tools: {', '.join(sorted(map(str, names)))}")
    kinds = {r.get("columnKind") for r in runs}
    if len(kinds) != 1:
        raise MergeError("cannot merge runs with different columnKind")
    bases = {json.dumps(r.get("originalUriBaseIds"), sort_keys=True) for r in runs if r.get("originalUriBaseIds")}
    if len(bases) > 1:
        raise MergeError("cannot merge runs with different repository roots (originalUriBaseIds)")

    rules: dict[str, dict] = {}
    descriptors: dict[str, dict] = {}
    for r in runs:
        for d in r["tool"]["driver"].get("rules", []):
            rules.setdefault(d["id"], d)
        for d in r["tool"]["driver"].get("notifications", []):
            descriptors.setdefault(d["id"], d)
    rule_ids = sorted(rules)
    rule_index = {rid: i for i, rid in enumerate(rule_ids)}
    note_ids = sorted(descriptors)
    note_index = {nid: i for i, nid in enumerate(note_ids)}

    results, notes, ok, props = [], [], True, {}
    for r in runs:
        old_rules = r["tool"]["driver"].get("rules", [])
        old_notes = r["tool"]["driver"].get("notifications", [])
        for res in r.get("results", []):
            res = json.loads(json.dumps(res))
            rid = res.get("ruleId") or old_rules[res["ruleIndex"]]["id"]
            res["ruleId"], res["ruleIndex"] = rid, rule_index[rid]
            results.append(res)
        for inv in r.get("invocations", []):
            ok = ok and inv.get("executionSuccessful", True)
            for n in inv.get("toolExecutionNotifications", []):
                n = json.loads(json.dumps(n))
                _reindex(n.get("descriptor"), old_notes, note_index)
                _reindex(n.get("associatedRule"), old_rules, rule_index)
                notes.append(n)
            for k, v in inv.get("properties", {}).items():
                props[k] = props.get(k, 0) + v if isinstance(v, (int, float)) else v

    def where(res: dict) -> tuple:
        loc = (res.get("locations") or [{}])[0].get("physicalLocation", {})
        region = loc.get("region", {})
        return (loc.get("artifactLocation", {}).get("uri", ""), region.get("startLine", 0),
                region.get("startColumn", 0), res["ruleId"])

    results.sort(key=where)
    first = runs[0]
    driver = dict(first["tool"]["driver"])
    driver["rules"] = [rules[i] for i in rule_ids]
    if note_ids:
        driver["notifications"] = [descriptors[i] for i in note_ids]
    else:
        driver.pop("notifications", None)
    if category is None:
        ids = {r.get("automationDetails", {}).get("id", "") for r in runs}
        stripped = {_SHARD_SUFFIX.sub("", i) for i in ids}
        category = stripped.pop() if len(stripped) == 1 else "cnlint/"
    elif not category.endswith("/"):
        category += "/"
    run = {"tool": {"driver": driver}, "automationDetails": {"id": category}}
    for key in ("originalUriBaseIds", "columnKind"):
        if key in first:
            run[key] = first[key]
    invocation = {"executionSuccessful": ok, "toolExecutionNotifications": notes}
    if props:
        invocation["properties"] = props
    run["invocations"] = [invocation]
    run["results"] = results
    return {"version": logs[0].get("version", "2.1.0"), "$schema": logs[0].get("$schema"), "runs": [run]}
