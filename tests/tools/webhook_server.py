#!/usr/bin/python3
"""webhook_server.py - a tiny HTTP receiver for notification tests (e2e 0040).

    webhook_server.py --port-file F --record R [--fail-first N] [--status CODE]

Listens on 127.0.0.1, a free port chosen by the kernel, written to F
(atomically: temporary file + rename) once the socket listens. Every request
is appended to R as one JSON line: {"n", "method", "path", "headers"
(names lower-cased), "body" (text), "status" (what was answered)}. The first
N requests are answered 503 (to exercise retries); the others get CODE
(default 200). HTTP/1.1 with keep-alive, one thread per connection. Runs
until killed (SIGTERM).
"""
import argparse
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument('--port-file', required=True)
ap.add_argument('--record', required=True)
ap.add_argument('--fail-first', type=int, default=0)
ap.add_argument('--status', type=int, default=200)
args = ap.parse_args()

lock = threading.Lock()
count = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *a):  # quiet
        pass

    def handle_any(self):
        global count
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n > 0 else b''
        with lock:
            count += 1
            status = 503 if count <= args.fail_first else args.status
            rec = {'n': count, 'method': self.command, 'path': self.path,
                   'headers': {k.lower(): v for k, v in self.headers.items()},
                   'body': body.decode('utf-8', 'replace'), 'status': status}
            with open(args.record, 'a') as f:
                f.write(json.dumps(rec) + '\n')
        reply = f'status {status}\n'.encode()
        self.send_response(status)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_POST = handle_any
    do_GET = handle_any
    do_PUT = handle_any


srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
srv.daemon_threads = True
tmp = args.port_file + '.tmp'
with open(tmp, 'w') as f:
    f.write(f'{srv.server_address[1]}\n')
os.rename(tmp, args.port_file)
srv.serve_forever()
