#!/usr/bin/env python3
"""Demo webhook receiver: checks keyward's signature on each POST and records what arrived.

    receiver.py PORT KEY_FILE LOG_FILE

A request is accepted (204) only if X-Keyward-Signature is sha256=HMAC(key, timestamp + "." + body)
with a timestamp within 5 minutes; each accepted one adds a line "time secret_id version fingerprint" to
LOG_FILE (never a value). Anything else is refused with 401.
"""
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, key_file, log_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(key_file, "rb") as f:
    key = f.read().strip()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ts = self.headers.get("X-Keyward-Timestamp", "")
        sig = self.headers.get("X-Keyward-Signature", "")
        want = "sha256=" + hmac.new(key, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        fresh = ts.isdigit() and abs(time.time() - int(ts)) < 300
        if not (fresh and hmac.compare_digest(sig, want)):
            self.send_response(401)
            self.end_headers()
            return
        event = json.loads(body)
        with open(log_file, "a") as log:
            log.write(f"{time.strftime('%H:%M:%S')} {event.get('secret_id')} v{event.get('version')} "
                      f"{event.get('fingerprint', '')}\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
