#!/usr/bin/env python3
"""An application outside keyward, for tests: reads its key files as an application would and checks
each key against the issuer's revocations (issuer.sh keeps them as files). Reading a revoked key is a
violation once the file still holds it when read again (the file may have been replaced between the
read and the check). Runs until SIGTERM or until STOP (a file) exists, then writes its figures as JSON.

    consumer.py SPEC OUT [STOP]

SPEC is a JSON file: {"issuer_state": DIR, "interval_ms": N, "files": [{"path", "format", "field",
"template", "issuer_state"}]} (a file's issuer_state, if given, is where its keys are judged), format one
of raw, env, json, properties, template. OUT gets {"reads", "revoked_reads",
"episodes", "unknown_reads", "backward", "files": {path: reads}, "examples": [...]}; "backward" counts the
times a file went back to a key it had held before another (a version delivered again out of order);
keys are named by a short hash, never shown.
"""
import hashlib
import json
import os
import re
import signal
import sys
import time

spec = json.load(open(sys.argv[1]))
out = sys.argv[2]
stop = sys.argv[3] if len(sys.argv) > 3 else None
state = spec["issuer_state"]
interval = spec.get("interval_ms", 10) / 1000.0
running = True


def stopped(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stopped)
signal.signal(signal.SIGINT, stopped)


def key_of(f, text):
    fmt, field = f["format"], f.get("field", "value")
    if fmt == "raw":
        return text.strip()
    if fmt == "env":
        name = re.sub(r"[^A-Z0-9_]", "_", field.upper())
        m = re.search(r"^" + re.escape(name) + r'="((?:[^"\\]|\\.)*)"$', text, re.M)
        return re.sub(r"\\(.)", r"\1", m.group(1)) if m else None
    if fmt == "json":
        try:
            return json.loads(text).get(field)
        except ValueError:
            return None
    if fmt == "properties":
        m = re.search(r"^" + re.escape(field) + r"=(.*)$", text, re.M)
        return m.group(1) if m else None
    if fmt == "template":
        parts = re.split(r"\{\{\s*([A-Za-z0-9_.-]+)\s*}}", f["template"])
        pattern = ""
        for i, p in enumerate(parts):
            if i % 2 == 0:
                pattern += re.escape(p)
            else:
                pattern += "(?P<key>.+?)" if p == field else ".*?"
        m = re.fullmatch(pattern, text, re.S)
        return m.group("key") if m else None
    raise SystemExit("unknown format " + fmt)


def read(f):
    try:
        with open(f["path"]) as h:
            text = h.read()
    except (FileNotFoundError, IsADirectoryError):
        return None
    k = key_of(f, text) if text else None
    return k or None


def short(k):
    return hashlib.sha256(k.encode()).hexdigest()[:12]


reads = revoked = unknown = episodes = backward = 0
held = {f["path"]: set() for f in spec["files"]}  # path -> hashes of every key the file has held
last = {}  # path -> hash of the key read last
per_file = {f["path"]: 0 for f in spec["files"]}
bad = {}  # path -> key hash of the episode in progress
examples = []
while running and not (stop and os.path.exists(stop)):
    for f in spec["files"]:
        k = read(f)
        if k is None:
            continue
        reads += 1
        per_file[f["path"]] += 1
        h = short(k)
        if last.get(f["path"]) != h:
            if h in held[f["path"]]:
                backward += 1
                if len(examples) < 20:
                    examples.append({"at_ms": int(time.time() * 1000), "path": f["path"], "key": h, "backward": True})
            held[f["path"]].add(h)
            last[f["path"]] = h
        issuer = f.get("issuer_state", state)
        if os.path.exists(os.path.join(issuer, "revoked", k)):
            if read(f) == k:
                revoked += 1
                if bad.get(f["path"]) != short(k):
                    episodes += 1
                    bad[f["path"]] = short(k)
                    if len(examples) < 20:
                        examples.append({"at_ms": int(time.time() * 1000), "path": f["path"], "key": short(k)})
                continue
        elif not os.path.exists(os.path.join(issuer, "valid", k)):
            unknown += 1
        bad.pop(f["path"], None)
    time.sleep(interval)

with open(out + ".tmp", "w") as h:
    json.dump({"reads": reads, "revoked_reads": revoked, "episodes": episodes, "unknown_reads": unknown,
               "backward": backward, "files": per_file, "examples": examples}, h)
os.replace(out + ".tmp", out)
