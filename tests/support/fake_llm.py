"""A local OpenAI-compatible chat-completions server: the one external service the tests stand
in for. Its answers are real analyses (the local analyzer run on the fenced documents it is
sent), with latency and faults that tests script through a control endpoint:

    POST /_control {"latency": 0.2, "faults": ["429", "500", "timeout", "malformed", "truncated",
                    "out_of_range", "leak", "401"], "error_rate": 0.3,
                    "answers": [{"content": "raw text"}, {"merge": {"score": 1000}}, {"drop": ["gaps"]}]}
    GET  /_stats   {"requests": n, "last_user_message": "..."}

``answers`` script a model that obeys instructions it was sent: each answered request uses the
next one — exactly ``content``, or the genuine analysis with ``merge`` keys set and ``drop`` keys
removed — until the list is used up.

Run standalone (benchmarks): ``python -m tests.support.fake_llm --port 8099 --latency 0.2``.
"""
from __future__ import annotations

import argparse
import functools
import json
import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from services.analysis import local
from services.analysis.llm import SYSTEM_PROMPT

FENCE = re.compile(r"<job_listing>\n(?P<listing>.*?)\n</job_listing>.*?<resume>\n(?P<resume>.*?)\n</resume>", re.S)


class Script:
    """What the server does next; shared by its handler threads."""

    def __init__(self, latency: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.latency = latency
        self.faults: list[str] = []
        self.answers: list[dict] = []
        self.error_rate = 0.0
        self.timeout_sleep = 3.0
        self.requests = 0
        self.last_user_message = ""
        self.random = random.Random(42)
        # When set, scripted faults and answers go only to requests whose prompt contains it: the
        # workers serve the whole session, and a call left over from an earlier test (a retry,
        # an SDK re-send) must not take the fault a test scripted for its own analysis.
        self.match: str | None = None

    def _mine(self, user_message: str) -> bool:
        return self.match is None or self.match in user_message

    def next_fault(self, user_message: str = "") -> str | None:
        with self.lock:
            self.requests += 1
            if self.faults and self._mine(user_message):
                return self.faults.pop(0)
            if self.error_rate and self.random.random() < self.error_rate:
                return self.random.choice(["429", "500", "timeout"])
            return None

    def next_answer(self, user_message: str = "") -> dict | None:
        with self.lock:
            return self.answers.pop(0) if self.answers and self._mine(user_message) else None

    def control(self, settings: dict) -> None:
        with self.lock:
            self.latency = float(settings.get("latency", self.latency))
            self.faults = list(settings.get("faults", self.faults))
            self.answers = list(settings.get("answers", self.answers))
            self.error_rate = float(settings.get("error_rate", self.error_rate))
            self.timeout_sleep = float(settings.get("timeout_sleep", self.timeout_sleep))
            self.match = settings.get("match", self.match)
            if settings.get("reset_stats"):
                self.requests = 0


def completion(content: str, *, finish_reason: str = "stop", prompt_tokens: int = 0) -> dict:
    return {
        "id": f"chatcmpl-{random.getrandbits(48):x}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake-llm",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(content) // 4,
                  "total_tokens": prompt_tokens + len(content) // 4},
    }


@functools.lru_cache(maxsize=256)
def _cached_answer(user_message: str) -> str:
    # Benchmarks send the same documents thousands of times; a real LLM's cost is its latency,
    # not CPU on this machine, so the answer is computed once per distinct message.
    return json.dumps(_analysis_answer(user_message))


def analysis_answer(user_message: str) -> dict:
    return json.loads(_cached_answer(user_message))


def _analysis_answer(user_message: str) -> dict:
    match = FENCE.search(user_message)
    if match is None:
        return {"score": 0, "verdict": "weak_match", "summary": "No documents were found.", "matched_skills": [],
                "missing_skills": [], "requirements": [], "strengths": [], "gaps": ["No resume."], "suggestions": []}
    title, _, description = match["listing"].partition("\n\n")
    return local.analyze(match["resume"], description, job_title=title).to_dict()


def make_handler(script: Script):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body go out in two writes: with Nagle's algorithm on, the body
        # waits for the client's delayed ACK, 40 ms per call on Linux. A real API has no such stall.
        disable_nagle_algorithm = True

        def log_message(self, *_args) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length", 0))
            return json.loads(self.rfile.read(length) or b"{}")

        def do_GET(self) -> None:
            if self.path == "/_stats":
                with script.lock:
                    self._send(200, {"requests": script.requests, "last_user_message": script.last_user_message})
            else:
                self._send(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            if self.path == "/_control":
                script.control(self._body())
                self._send(200, {"ok": True})
                return
            if not self.path.endswith("/chat/completions"):
                self._send(404, {"error": {"message": "not found"}})
                return
            request = self._body()
            user_message = next((m["content"] for m in request.get("messages", []) if m.get("role") == "user"), "")
            with script.lock:
                script.last_user_message = user_message
            fault = script.next_fault(user_message)
            time.sleep(script.latency)
            prompt_tokens = sum(len(m.get("content", "")) for m in request.get("messages", [])) // 4
            if fault == "timeout":
                time.sleep(script.timeout_sleep)
            elif fault in ("429", "500", "401", "404"):
                status = int(fault)
                headers = {"Retry-After": "0"} if status == 429 else None
                self._send(status, {"error": {"message": f"scripted {status}", "type": "scripted"}}, headers)
                return
            answer = analysis_answer(user_message)
            scripted = script.next_answer(user_message) if fault is None else None
            if scripted is not None:
                if "content" in scripted:
                    content = scripted["content"]
                else:
                    obeyed = {**answer, **scripted.get("merge", {})}
                    content = json.dumps({k: v for k, v in obeyed.items() if k not in scripted.get("drop", ())})
                self._send(200, completion(content, prompt_tokens=prompt_tokens))
            elif fault == "malformed":
                self._send(200, completion("Sure! Here is the analysis: {score: high", prompt_tokens=prompt_tokens))
            elif fault == "truncated":
                text = json.dumps(answer)
                self._send(200, completion(text[: len(text) // 2], finish_reason="length", prompt_tokens=prompt_tokens))
            elif fault == "out_of_range":
                self._send(200, completion(json.dumps({**answer, "score": 150}), prompt_tokens=prompt_tokens))
            elif fault == "leak":
                leaked = {**answer, "summary": SYSTEM_PROMPT[:550]}
                self._send(200, completion(json.dumps(leaked), prompt_tokens=prompt_tokens))
            else:
                self._send(200, completion(json.dumps(answer), prompt_tokens=prompt_tokens))

    return Handler


class FakeLLM:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        self.script = Script(latency)
        self.server = ThreadingHTTPServer((host, port), make_handler(self.script))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "FakeLLM":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Local OpenAI-compatible test server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    server = FakeLLM(args.host, args.port, args.latency)
    print(f"fake LLM listening on {server.base_url}", flush=True)
    server.server.serve_forever()


if __name__ == "__main__":
    main()
