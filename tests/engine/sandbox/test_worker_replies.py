"""The parent reads a worker's reply `[status, payload]`: the statuses are the strings the workers send, and
a reply that is not one (garbage, an unknown status, a malformed problem list) is a script failure,
never an exception of another kind in the caller."""
from __future__ import annotations

import json

import pytest

from engine.sandbox import ScriptFailed
from engine.sandbox.executor import RunStatus, _decode, _encode


def test_statuses_are_the_strings_on_the_wire():
    assert [s.value for s in RunStatus] == ["ok", "refused", "failed", "oom"]
    assert json.loads(_encode(RunStatus.REFUSED, [[1, 2, "x"]], 10_000)) == ["refused", [[1, 2, "x"]]]


@pytest.mark.parametrize("status", list(RunStatus))
def test_every_encoded_reply_decodes(status):
    payload = {"doc": 1} if status is RunStatus.OK else [[3, 4, "why"]]
    assert _decode(_encode(status, payload, 10_000)) == (status, payload)


def test_an_oversized_result_becomes_a_failure_naming_the_limit():
    status, payload = _decode(_encode(RunStatus.OK, {"x": "y" * 5000}, 1000))
    assert status is RunStatus.FAILED and "at most 0.001 MB" in payload[0][2]


@pytest.mark.parametrize("data", [b"", b"not json", b"[" * 10_000 + b"]" * 10_000, b'"ok"', b'["ok"]',
                                  b'["done", {}]', b'["failed", "boom"]', b'["refused", [[1, 2]]]', b'["failed", [["a", 2, "x"]]]', b"[1, 2, 3]"])
def test_unreadable_replies_are_script_failures(data):
    with pytest.raises(ScriptFailed, match="cannot be read"):
        _decode(data)
