"""The LLM interpreter against a real HTTP server on 127.0.0.1 speaking /v1/chat/completions:
a good answer, a refused script repaired on the second answer, a hung server, HTTP 500."""
from __future__ import annotations

import time

import pytest

from engine.library import library_functions
from engine.prompting.extract import extract_script
from engine.prompting.llm import LLMError, LLMInterpreter
from engine.prompting.settings import LLMSettings
from engine.prompting.template import examples, system_prompt
from engine.sandbox import run_script

GOOD = "```python\ntruck = cut_in(ego, side=\"left\", cls=\"truck\")\nset_environment(time_of_day=\"night\")\n```"
REFUSED = "Sure!\n```python\nimport os\ntruck = cut_in(ego, side=\"left\", cls=\"truck\")\n```\nDone."


def _settings(url: str, **kw) -> LLMSettings:
    base = dict(base_url=url, api_key="test-key", model="tiny-test", timeout_s=5.0, max_retries=0, max_repairs=2)
    base.update(kw)
    return LLMSettings(**base)


def test_good_answer_becomes_a_scenario(fake_llm):
    srv = fake_llm([GOOD])
    result = LLMInterpreter(_settings(srv.url)).interpret("a truck cuts in at night")
    s = result.scenario
    assert [a.behavior for a in s.agents] == ["cut_in"] and s.environment.time_of_day == "night"
    assert s.prompt == "a truck cuts in at night" and "cut_in(ego" in s.script
    assert len(srv.requests) == 1
    req = srv.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer test-key"
    msgs = req["body"]["messages"]
    assert req["body"]["model"] == "tiny-test"
    assert msgs[0]["role"] == "system" and msgs[-1] == {"role": "user", "content": "a truck cuts in at night"}
    for name in library_functions():                 # the prompt lists every library function
        assert f"{name}(" in msgs[0]["content"]


def test_refused_script_is_repaired_on_the_second_answer(fake_llm):
    srv = fake_llm([REFUSED, GOOD])
    result = LLMInterpreter(_settings(srv.url)).interpret("a truck cuts in")
    assert len(result.attempts) == 2 and result.attempts[0].problems and not result.attempts[1].problems
    assert "imports are not allowed" in result.attempts[0].problems[0]
    second = srv.requests[1]["body"]["messages"]
    assert second[-2]["role"] == "assistant" and "import os" in second[-2]["content"]
    assert second[-1]["role"] == "user" and "line 1: imports are not allowed" in second[-1]["content"]
    assert result.scenario.agents[0].behavior == "cut_in"


def test_repairs_are_bounded(fake_llm):
    srv = fake_llm([REFUSED])
    with pytest.raises(LLMError, match="no runnable script after 2") as info:
        LLMInterpreter(_settings(srv.url, max_repairs=1)).interpret("a truck cuts in")
    assert len(srv.requests) == 2 and len(info.value.attempts) == 2


def test_hung_server_gives_up_within_the_timeout(fake_llm):
    srv = fake_llm(["HANG"])
    t0 = time.monotonic()
    with pytest.raises(LLMError, match="did not answer within 1 s"):
        LLMInterpreter(_settings(srv.url, timeout_s=1.0, max_retries=0)).interpret("a truck cuts in")
    assert time.monotonic() - t0 < 5.0
    assert len(srv.requests) == 1


def test_http_500_is_reported_after_bounded_retries(fake_llm):
    srv = fake_llm(["HTTP500"])
    t0 = time.monotonic()
    with pytest.raises(LLMError, match="HTTP 500"):
        LLMInterpreter(_settings(srv.url, max_retries=1)).interpret("a truck cuts in")
    assert len(srv.requests) == 2                       # one try plus one retry, no more
    assert time.monotonic() - t0 < 10.0


def test_cli_prompt_with_openai_endpoint(fake_llm, tmp_path, monkeypatch, capsys):
    from main import main
    from engine.scenario.io import load_scenario

    srv = fake_llm([GOOD])
    monkeypatch.setenv("OPENAI_BASE_URL", srv.url)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    out = tmp_path / "s.json"
    assert main(["prompt", "a truck cuts in", "--llm", "openai", "-o", str(out), "--timeout", "5"]) == 0
    assert "cut_in(ego" in capsys.readouterr().out
    assert load_scenario(out).agents[0].behavior == "cut_in"


def test_unconfigured_endpoint_is_a_clear_error(monkeypatch):
    for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(LLMError, match="no language model endpoint configured"):
        LLMInterpreter(LLMSettings.from_env())


def test_settings_from_environment_and_overrides():
    s = LLMSettings.from_env({"OPENAI_BASE_URL": "http://x/v1", "OPENAI_API_KEY": "k", "OPENAI_MODEL": "m",
                              "OPENAI_TIMEOUT": "7"}, model="other")
    assert (s.base_url, s.api_key, s.model, s.timeout_s) == ("http://x/v1", "k", "other", 7.0)
    assert s.redacted()["api_key"] == "set"
    with pytest.raises(ValueError):
        LLMSettings(timeout_s=0)


def test_extract_script_from_answers():
    assert extract_script("Here:\n```python\nx = 1\n```\nand ```\ny = 2\n```") == "x = 1\n"
    assert extract_script("```\ny = 2\n```") == "y = 2\n"
    assert extract_script("forward('car')") == "forward('car')\n"
    assert extract_script("I cannot help with that.") is None
    assert extract_script("```python\nz = 3\n") == "z = 3\n"


def test_system_prompt_examples_run_in_the_sandbox():
    text = system_prompt()
    for placeholder in ("$library", "$examples", "$builtins", "$attributes", "$max_range"):
        assert placeholder not in text
    for ex in examples():
        assert ex["script"].strip() in text
        s = run_script(ex["script"])
        assert s.agents, ex["prompt"]
