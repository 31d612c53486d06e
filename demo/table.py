#!/usr/bin/env python3
"""Live table for the demo: what keyward rotates and where it was delivered.

    table.py METRICS_URL AUDIT_FILE HOOK_LOG WEBHOOK_LOG

Reads keyward's /metrics and its audit file once (demo/run calls it every two seconds); shows per
secret the live version, its age, when keyward looks next, rotations finished, and per target
the deliveries. No values.
"""
import json
import os
import re
import sys
import time
import urllib.request
from collections import defaultdict

metrics_url, audit_file, hook_log, webhook_log = sys.argv[1:5]
SERIES = re.compile(r'^(keyward_[a-z_]+)\{([^}]*)\} (\S+)$')


def scrape():
    out = defaultdict(dict)
    try:
        text = urllib.request.urlopen(metrics_url, timeout=2).read().decode()
    except OSError:
        return out
    for line in text.splitlines():
        m = SERIES.match(line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            out[m.group(1)][tuple(sorted(labels.items()))] = float(m.group(3))
    return out


def audit():
    versions, rotations, failures = {}, defaultdict(int), defaultdict(int)
    if os.path.exists(audit_file):
        with open(audit_file) as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                ev, sid = e.get("event", ""), e.get("path", "")
                if ev == "rotation.promoted" and e.get("version"):
                    versions[sid] = e["version"]
                elif ev == "rotation.retired":
                    rotations[sid] += 1
                elif ev in ("rotation.failed", "rotation.rolled_back"):
                    failures[sid] += 1
    return versions, rotations, failures


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


def ago(seconds):
    if seconds != seconds:  # NaN
        return "-"
    seconds = int(seconds)
    return f"{seconds}s" if seconds < 120 else f"{seconds // 60}m"


def render():
    m = scrape()
    versions, rotations, failures = audit()
    now = time.time()
    secrets = sorted({dict(k)["secret"] for k in m.get("keyward_secret_age_seconds", {})})
    rows = [f"keyward demo  {time.strftime('%H:%M:%S')}   (Ctrl-C stops everything)", "",
            f"{'secret':<16} {'live':>5} {'age':>6} {'next look':>9} {'rotated':>7} {'failed':>6}  delivered to (ok/failed)"]
    for s in secrets:
        age = m["keyward_secret_age_seconds"].get((("secret", s),), float("nan"))
        nxt = m.get("keyward_secret_next_run_timestamp_seconds", {}).get((("secret", s),), float("nan"))
        targets = []
        for k, v in sorted(m.get("keyward_deliveries_total", {}).items()):
            d = dict(k)
            if d["secret"] == s and d["result"] == "ok":
                bad = m["keyward_deliveries_total"].get(tuple(sorted({**d, "result": "failed"}.items())), 0)
                targets.append(f"{d['target']} {int(v)}/{int(bad)}")
        live = f"v{versions[s]}" if s in versions else "-"
        rows.append(f"{s:<16} {live:>5} {ago(age):>6} {('in ' + ago(nxt - now)) if nxt == nxt else '-':>9} "
                    f"{rotations[s]:>7} {failures[s]:>6}  {', '.join(targets)}")
    if not secrets:
        rows.append("(waiting for keyward's first metrics)")
    hooks, hooks_seen = lines(hook_log), lines(webhook_log)
    rows += ["", f"exec hook ran {len(hooks)} times" + (f", last: {hooks[-1]}" if hooks else ""),
             f"webhook receiver accepted {len(hooks_seen)} signed calls" + (f", last: {hooks_seen[-1]}" if hooks_seen else "")]
    return "\n".join(rows)


print(render())
