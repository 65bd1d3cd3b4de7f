# SPDX-License-Identifier: GPL-2.0
"""What a collector stored and what agents published, for the fault tests (tests/faults/).

scan(path) reads a collector's JSON lines (or an agent's --json output) fast: samples only by their envelope
(type, instance_id, seq), every other event whole. A line cut short at the end (a file read while written) is
left out."""
import collections
import json
import re

_ENVELOPE = re.compile(r'"type":"([a-z_]+)","node":"(?:[^"\\]|\\.)*","instance_id":"([^"]*)","seq":(\d+)')


class Events:
    def __init__(self):
        self.count = collections.defaultdict(collections.Counter)  # instance -> seq -> times stored
        self.kind = {}  # (instance, seq) -> type
        self.others = []  # every event that is not a sample, whole


def scan(path, into=None):
    ev = into or Events()
    with open(path, "rb") as f:
        data = f.read()
    for raw in data.split(b"\n")[:-1]:  # the last piece has no newline: cut short, or empty
        line = raw.decode()
        m = _ENVELOPE.match(line, 1)
        if m:
            typ, inst, seq = m.group(1), m.group(2), int(m.group(3))
        else:
            j = json.loads(line)
            typ, inst, seq = j["type"], j.get("instance_id", ""), j.get("seq", 0)
        ev.count[inst][seq] += 1
        ev.kind[(inst, seq)] = typ
        if typ != "sample":
            ev.others.append(json.loads(line))
    return ev


def duplicates(ev):
    return [(i, s) for i, c in ev.count.items() for s, n in c.items() if n > 1]


def missing(ev, instance, upto):
    c = ev.count.get(instance, {})
    return [s for s in range(1, upto + 1) if s not in c]


def dropped_reports(ev, instance):
    """Dropped events about instance's seqs: its own, or a later instance's naming it."""
    out = []
    for e in ev.others:
        if e["type"] != "dropped":
            continue
        whose = e.get("dropped_instance_id") or e["instance_id"]
        if whose == instance:
            out.append(e)
    return out


def of_type(ev, typ, path=None):
    return [e for e in ev.others if e["type"] == typ and (path is None or e.get("path") == path)]
