"""The LLM path against a hostile chat-completions server on 127.0.0.1 (threads, every handler
bounded): it hangs, drips one byte every 2 s, answers huge or hostile bodies, 60 kB of backticks,
429 with Retry-After. Every run ends within its TOTAL deadline (stated per test, plus SLACK for a
loaded machine) with a message that names the endpoint."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.prompting.extract import extract_script
from engine.prompting.llm import LLMError, LLMInterpreter, prompt_deadline
from engine.prompting.settings import LLMSettings

GOOD = "```python\ntruck = cut_in(ego, side=\"left\", cls=\"truck\")\n```"
SLACK = 3.0
HANDLER_MAX_S = 20.0            # no handler of the fake server lives longer than this


def _chat(content) -> bytes:
    return json.dumps({"id": "x", "object": "chat.completion", "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]}).encode()


class Hostile:
    """`modes` are served in turn (the last one repeats)."""

    def __init__(self, modes: list) -> None:
        self.modes = list(modes)
        self.hits: list[float] = []
        self.stop = threading.Event()
        srv = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                srv.hits.append(time.monotonic())
                mode = srv.modes[min(len(srv.hits), len(srv.modes)) - 1]
                kind = mode[0] if isinstance(mode, tuple) else mode
                end = time.monotonic() + HANDLER_MAX_S
                try:
                    if kind == "hang":
                        srv.stop.wait(HANDLER_MAX_S)
                    elif kind == "drip":                   # valid headers, then one byte every 2 s
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", "100000")
                        self.end_headers()
                        while time.monotonic() < end and not srv.stop.is_set():
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            srv.stop.wait(2.0)
                    elif kind == "huge":                   # 50 MB of body without Content-Length
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.end_headers()
                        chunk = b"x" * 65536
                        for _ in range(800):
                            if time.monotonic() > end:
                                break
                            self.wfile.write(chunk)
                    elif kind == "huge_declared":
                        self.send_response(200)
                        self.send_header("Content-Length", str(10 ** 9))
                        self.end_headers()
                    elif kind == "429":
                        retry = mode[1]
                        data = b'{"error": {"message": "slow down"}}'
                        self.send_response(429)
                        self.send_header("Retry-After", str(retry))
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                    else:                                  # ("body", bytes) / ("slow", seconds, bytes)
                        if kind == "slow":
                            srv.stop.wait(mode[1])
                        data = mode[-1]
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile():
    made = []

    def make(modes):
        s = Hostile(modes)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def _settings(url, **kw):
    base = dict(base_url=url, api_key="k", model="m", timeout_s=2.0, max_retries=0, max_repairs=2)
    base.update(kw)
    return LLMSettings(**base)


def _fails_within(srv, bound, match, **kw):
    t0 = time.monotonic()
    with pytest.raises(LLMError) as info:
        LLMInterpreter(_settings(srv.url, **kw)).interpret("a truck cuts in", check=False)
    elapsed = time.monotonic() - t0
    assert elapsed < bound + SLACK, elapsed
    assert srv.url in str(info.value), str(info.value)          # the endpoint is named
    assert match in str(info.value), str(info.value)
    return elapsed


def test_hanging_endpoint_is_abandoned_at_the_request_deadline(hostile):
    _fails_within(hostile(["hang"]), 2.0, "did not answer within 2 s")


def test_dripping_endpoint_is_abandoned_at_the_deadline_not_per_read(hostile):
    # one byte every 2 s never trips a per-read timeout of 3 s; the total deadline of 3 s does
    elapsed = _fails_within(hostile(["drip"]), 3.0, "did not answer within 3 s", timeout_s=3.0)
    assert elapsed >= 2.5


def test_huge_answer_is_cut_at_the_cap(hostile):
    _fails_within(hostile(["huge"]), 2.0, "sent more than 2000000 bytes")


def test_huge_declared_answer_is_refused_before_reading(hostile):
    _fails_within(hostile(["huge_declared"]), 2.0, "sent an answer of 1000000000 bytes")


@pytest.mark.parametrize("body,match", [
    (b"not json", "invalid JSON"),
    (b'{"choices": []}', "without a message"),
    (json.dumps({"choices": [{"message": {"content": {"evil": 1}}}]}).encode(), "not text"),
    (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
])
def test_hostile_bodies(hostile, body, match):
    _fails_within(hostile([("body", body)]), 2.0, match, max_repairs=0)


def test_backticks_answer_is_extracted_fast_and_re_asked(hostile):
    srv = hostile([("body", _chat("`" * 60_000)), ("body", _chat(GOOD))])
    t0 = time.monotonic()
    r = LLMInterpreter(_settings(srv.url)).interpret("a truck cuts in", check=False)
    assert time.monotonic() - t0 < 2.0 + SLACK
    assert r.attempts[0].problems == ("no script in the answer",) and r.scenario.agents


def test_retry_after_is_respected_within_the_deadline(hostile):
    srv = hostile([("429", 1), ("body", _chat(GOOD))])
    r = LLMInterpreter(_settings(srv.url, timeout_s=5.0, max_retries=1)).interpret("a truck cuts in", check=False)
    assert r.scenario.agents and len(srv.hits) == 2
    assert srv.hits[1] - srv.hits[0] >= 0.9                     # waited as asked


def test_retry_after_past_the_deadline_fails_at_once(hostile):
    elapsed = _fails_within(hostile([("429", 3600)]), 2.0, "retry in 3600 s", max_retries=3)
    assert elapsed < 1.0 + SLACK


def test_prompt_deadline_bounds_all_rounds(hostile):
    # every answer takes 1 s and is refused: 6 rounds would take 6 s; the prompt deadline is 2.5 s
    srv = hostile([("slow", 1.0, _chat("```python\nimport os\n```"))])
    t0 = time.monotonic()
    interp = LLMInterpreter(_settings(srv.url, timeout_s=2.0, max_repairs=5), prompt_deadline_s=2.5)
    with pytest.raises(LLMError) as info:
        interp.interpret("a truck cuts in", check=False)
    assert time.monotonic() - t0 < 2.5 + SLACK
    assert srv.url in str(info.value) and len(srv.hits) <= 3


def test_prompt_deadline_default():
    s = LLMSettings(base_url="http://x", timeout_s=7.0, max_repairs=2)
    assert prompt_deadline(s) == 21.0


def test_extractor_is_linear():
    for n in (60_000, 10_000_000):
        for answer in ("`" * n, "```\n" * (n // 4), "```py " * (n // 6), "```python\n" + "a" * n):
            t0 = time.monotonic()
            extract_script(answer)
            assert time.monotonic() - t0 < 0.5, (n, answer[:12])


@pytest.mark.parametrize("mode,bound,match", [
    ("hang", 2.0, "did not answer within 2 s"),
    ("drip", 2.0, "did not answer within 2 s"),
    ("huge", 2.0, "bytes"),
    (("429", 3600), 2.0, "HTTP 429"),
])
def test_cli_prompt_llm_openai_ends_within_its_deadline(hostile, tmp_path, monkeypatch, capsys, mode, bound, match):
    from main import main

    srv = hostile([mode])
    monkeypatch.setenv("OPENAI_BASE_URL", srv.url)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    out = tmp_path / "s.json"
    t0 = time.monotonic()
    code = main(["prompt", "a truck cuts in", "--llm", "openai", "-o", str(out), "--timeout", "2"])
    assert time.monotonic() - t0 < bound + SLACK
    err = capsys.readouterr().err
    assert code == 2 and match in err and srv.url in err and "Traceback" not in err
    assert not out.exists()


def test_cancel_abandons_a_request_at_once(hostile):
    from engine.sandbox.executor import cancel_scope

    srv = hostile(["hang"])
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    t0 = time.monotonic()
    with pytest.raises(LLMError, match="cancelled"):
        with cancel_scope(stop):
            LLMInterpreter(_settings(srv.url, timeout_s=30.0)).interpret("a truck cuts in", check=False)
    assert time.monotonic() - t0 < 0.5 + SLACK


def test_http_proxy_from_the_environment_is_used(hostile, monkeypatch):
    srv = hostile([("body", _chat(GOOD))])                     # plays the proxy: any path answers
    proxy = srv.url.rsplit("/v1", 1)[0]
    for k in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(k, proxy)
    for k in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(k, raising=False)
    r = LLMInterpreter(_settings("http://llm.example.invalid/v1")).interpret("a truck cuts in", check=False)
    assert r.scenario.agents and len(srv.hits) == 1
