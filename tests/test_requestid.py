"""Request ids: in the response, in every log line of the request, and in JSON log lines."""

from __future__ import annotations

import json
import logging

import pytest
from agents.testing import ModelStep

from chat.requestid import RequestIdFilter
from tests.helpers import sse_events, user_input

pytestmark = pytest.mark.django_db(transaction=True)


async def test_each_response_carries_a_new_request_id(client):
    first = await client.http.get("/healthz")
    second = await client.http.get("/healthz")
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_proxys_sane_request_id_is_kept_and_an_odd_one_replaced(client):
    kept = await client.http.get("/healthz", headers={"X-Request-ID": "lb-1234.abc_Z"})
    assert kept.headers["x-request-id"] == "lb-1234.abc_Z"
    replaced = await client.http.get("/healthz", headers={"X-Request-ID": "evil id; drop"})
    assert replaced.headers["x-request-id"] != "evil id; drop" and len(replaced.headers["x-request-id"]) == 32


async def test_a_failed_turns_error_log_line_carries_the_request_id(client, scripted, caplog):
    scripted.enqueue(ModelStep.raise_error(RuntimeError("GPU on fire")))
    handler_filter = RequestIdFilter()
    caplog.handler.addFilter(handler_filter)
    with caplog.at_level(logging.ERROR, logger="chat.server"):
        response = await client.request("threads.create", input=user_input("please answer"))
    assert any(e["type"] == "error" for e in sse_events(response.text))
    failures = [r for r in caplog.records if r.name == "chat.server" and "Model run failed" in r.getMessage()]
    assert failures and failures[0].request_id == response.headers["x-request-id"]


def test_json_log_lines_are_one_object_each_with_the_request_id():
    from django.conf import settings
    from pythonjsonlogger.json import JsonFormatter

    config = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(config["fmt"], rename_fields=config["rename_fields"])
    record = logging.LogRecord(
        "chat.server", logging.ERROR, __file__, 1, "Model run failed in thread %s", ("thr_1",), None
    )
    record.request_id = "abc123"
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "chat.server"
    assert entry["message"] == "Model run failed in thread thr_1" and entry["request_id"] == "abc123"
