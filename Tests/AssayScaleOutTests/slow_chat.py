"""A slow OpenAI-compatible chat endpoint for the scale-out tests.

Usage: python3 slow_chat.py PORT DELAY_SECONDS LOG. Every chat completion sleeps DELAY, then
answers "a" with 10 prompt and 2 completion tokens, and appends the request's path and last
user message to LOG (one line per call), so a test can count who called for which row.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, delay, log_path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.reply(200, {"ok": True})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        time.sleep(delay)
        users = [m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"]
        with lock, open(log_path, "a") as log:
            log.write(self.path + "\t" + json.dumps(users[-1] if users else "") + "\n")
        self.reply(200, {
            "id": "c", "object": "chat.completion", "model": body.get("model", "m"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "a"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
        })

    def reply(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
