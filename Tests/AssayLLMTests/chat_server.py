"""A scripted OpenAI-compatible chat-completions server for AssayLLMTests.

Usage: python3 chat_server.py PORT. The first path segment picks the behaviour, the second
is a key the test makes unique so that call counts do not mix between tests:

  /ok/KEY/v1/chat/completions           200 with usage; the answer echoes the request
  /flaky/KEY/v1/chat/completions        500 for the first 2 calls of KEY, then 200
  /busy/KEY/v1/chat/completions         429 with Retry-After: 0 for the first call, then 200
  /slow/KEY/v1/chat/completions         sleeps 15 s before answering
  /bad/KEY/v1/chat/completions          400 with an OpenAI error body
  /unauthorized/KEY/v1/chat/completions 401
  /chunked/KEY/v1/chat/completions      200, body sent with Transfer-Encoding: chunked
  /answer/KEY/v1/chat/completions       200 whose content is the last user message up to its
                                        first blank line (the row's text, without the instruction)
  /vision/KEY/v1/chat/completions       200 whose content describes the last user message's image
                                        part: "sees image/png of N bytes" (its data: URL decoded),
                                        "sees URL" for another URL, or "no image"
  /calls/KEY                            how many chat calls KEY received, and the last body
"""
import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

calls = {}
last = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, headers=(), chunked=False):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in headers:
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 7):
                part = data[i:i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if parts[0] == "calls":
            with lock:
                self.send(200, {"calls": calls.get(parts[1], 0), "last": last.get(parts[1])})
        elif len(parts) >= 3 and parts[-1] == "models":
            self.send(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]})
        else:
            self.send(404, {"error": {"message": "no such path " + self.path}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        parts = self.path.strip("/").split("/")
        if len(parts) != 5 or parts[2:] != ["v1", "chat", "completions"]:
            self.send(404, {"error": {"message": "no such path " + self.path}})
            return
        mode, key = parts[0], parts[1]
        try:
            body = json.loads(raw)
        except ValueError:
            self.send(400, {"error": {"message": "body is not JSON"}})
            return
        with lock:
            calls[key] = calls.get(key, 0) + 1
            n = calls[key]
            last[key] = {"body": body, "authorization": self.headers.get("Authorization")}
        if mode == "flaky" and n <= 2:
            self.send(500, {"error": {"message": "flaky failure %d" % n}})
            return
        if mode == "busy" and n == 1:
            self.send(429, {"error": {"message": "slow down"}}, headers=[("Retry-After", "0")])
            return
        if mode == "slow":
            time.sleep(15)
        if mode == "bad":
            self.send(400, {"error": {"message": "context length exceeded", "type": "invalid_request_error"}})
            return
        if mode == "unauthorized":
            self.send(401, {"error": {"message": "invalid API key"}})
            return
        if mode == "answer":
            content = last_user(body).split("\n\n")[0]
        elif mode == "vision":
            content = describe_image(body)
        else:
            content = "echo: " + last_user(body)
        self.send(200, {
            "id": "chatcmpl-test", "object": "chat.completion", "model": body.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11 + n, "completion_tokens": 7, "total_tokens": 18 + n},
        }, chunked=(mode == "chunked"))


def describe_image(body):
    users = [m.get("content") for m in body.get("messages", []) if m.get("role") == "user"]
    parts = users[-1] if users and isinstance(users[-1], list) else []
    for part in parts:
        if part.get("type") == "image_url":
            url = part["image_url"]["url"]
            if url.startswith("data:") and ";base64," in url:
                mime, data = url[5:].split(";base64,", 1)
                return "sees %s of %d bytes" % (mime, len(base64.b64decode(data, validate=True)))
            return "sees " + url
    return "no image"


def last_user(body):
    users = [m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"]
    if not users:
        return ""
    content = users[-1]
    if isinstance(content, list):  # content parts: the text parts, and a mark per image
        return "".join(p["text"] if p.get("type") == "text" else "[image]" for p in content)
    return content


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    parent = __import__("os").getppid()

    def watch():
        while __import__("os").getppid() == parent:
            time.sleep(1)
        __import__("os")._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()
