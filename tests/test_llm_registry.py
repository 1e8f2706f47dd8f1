"""Model selection from CHATKIT_MODEL, and the tracing switch."""

from __future__ import annotations

import pytest
from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel
from django.core.exceptions import ImproperlyConfigured

from chat.llm import configure_tracing, get_model, model_supports_tools
from chat.llm.echo import EchoModel
from chat.llm.local import LocalModel


def test_echo_and_local_specs():
    assert isinstance(get_model("echo"), EchoModel)
    local = get_model("local")
    assert isinstance(local, LocalModel) and local.variant == "qwen2.5-coder-0.5b"
    assert get_model("local:qwen2.5-coder-0.5b") is local  # one instance per variant
    assert get_model("local:smollm2-135m") is not local


def test_default_comes_from_settings(settings):
    settings.CHATKIT_MODEL = "echo"
    assert isinstance(get_model(), EchoModel)


def test_openai_specs(settings):
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    assert isinstance(get_model("openai:gpt-4.1-mini"), OpenAIResponsesModel)
    compat = get_model("openai-compatible:qwen")
    assert isinstance(compat, OpenAIChatCompletionsModel)
    assert str(compat._client.base_url).startswith("http://127.0.0.1:9/v1")


def test_openai_compatible_needs_a_base_url(settings):
    settings.OPENAI_BASE_URL = ""
    with pytest.raises(ImproperlyConfigured, match="OPENAI_BASE_URL"):
        get_model("openai-compatible:qwen")


@pytest.mark.parametrize("spec", ["gpt-4", "local:nope", "openai:", "echo:x", ""])
def test_unknown_specs_list_the_valid_forms(spec):
    with pytest.raises(ImproperlyConfigured) as err:
        get_model(spec)
    assert "openai-compatible:<model>" in str(err.value) and "local:smollm2-135m" in str(err.value)


def test_model_supports_tools():
    assert model_supports_tools("local") and model_supports_tools("echo")
    assert model_supports_tools("openai:gpt-4.1")
    assert not model_supports_tools("local:smollm2-135m")


def test_tracing_is_off_unless_turned_on(settings, monkeypatch):
    calls = []
    monkeypatch.setattr("chat.llm.registry.set_tracing_disabled", calls.append)
    settings.CHATKIT_TRACING = False
    configure_tracing()
    settings.CHATKIT_TRACING = True
    configure_tracing()
    assert calls == [True, False]
