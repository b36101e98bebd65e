"""Run Ansible's to_yaml and to_nice_yaml on values sent by yamldump_test.go.

Input (stdin): a JSON list of {"call", "kw", "value"}. Values are tagged so
that Python gets the exact types: {"i": "12"} an int, {"f": "1.5"} a float,
{"u": s} an AnsibleUnsafeText, {"v": s} a vault value, {"d": [[k, v], ...]}
a dict in that order; other JSON is itself. {"def": n, "val": t} is t,
remembered as object n, and {"ref": n} is that same object again, so that
PyYAML sees what the Go side shares as one object. Output (stdout): a JSON
list of {"out": text} or {"err": message}.
"""
import json
import sys

import yaml
from ansible.parsing.yaml.dumper import AnsibleDumper
from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode
from ansible.plugins.filter.core import to_nice_yaml, to_yaml
from ansible.utils.unsafe_proxy import AnsibleUnsafeText

TAGS = {
    "i": int,
    "f": float,
    "u": AnsibleUnsafeText,
    "v": AnsibleVaultEncryptedUnicode,
    "d": lambda pairs: {k: build(v) for k, v in pairs},
}


memo = {}


def build(t):
    if isinstance(t, dict):
        if "ref" in t:
            return memo[t["ref"]]
        if "def" in t:
            memo[t["def"]] = build(t["val"])
            return memo[t["def"]]
        (tag, v), = t.items()
        return TAGS[tag](v)
    if isinstance(t, list):
        return [build(e) for e in t]
    return t


def dump(v, **kw):
    # allow_unicode=False cannot go through the filters, which pass
    # allow_unicode=True themselves.
    return yaml.dump(v, Dumper=AnsibleDumper, **kw)


CALLS = {"to_yaml": to_yaml, "to_nice_yaml": to_nice_yaml, "dump": dump}


def run(case):
    memo.clear()
    try:
        return {"out": CALLS[case["call"]](build(case["value"]), **case["kw"])}
    except Exception as e:  # the test compares failures too
        return {"err": str(e)}


json.dump([run(c) for c in json.load(sys.stdin)], sys.stdout)
