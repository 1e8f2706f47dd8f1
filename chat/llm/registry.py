"""Model selection: turn a ``CHATKIT_MODEL`` spec into an ``agents.Model``.

Valid specs::

    local                      the embedded Qwen2.5-Coder 0.5B (default)
    local:<variant>            another embedded variant (see chat.llm.weights.VARIANTS)
    echo                       EchoModel: echoes the user's words (tests, demos, benchmarks)
    openai:<model>             OpenAI Responses API, key from OPENAI_API_KEY
    openai-compatible:<model>  any Chat Completions server at OPENAI_BASE_URL
"""

from __future__ import annotations

import threading

from agents import Model, set_tracing_disabled
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .weights import DEFAULT_VARIANT, VARIANTS

__all__ = ["get_model", "model_supports_tools", "configure_tracing", "parse_spec", "VALID_SPECS"]

VALID_SPECS = (
    "local",
    *(f"local:{v}" for v in VARIANTS),
    "echo",
    "openai:<model>",
    "openai-compatible:<model>",
)

_local_models: dict[str, Model] = {}
_local_lock = threading.Lock()


def parse_spec(spec: str | None = None) -> tuple[str, str]:
    """Split ``spec`` (default ``settings.CHATKIT_MODEL``) into ``(kind, name)``.

    ``kind`` is one of ``local``, ``echo``, ``openai``, ``openai-compatible``;
    ``name`` is the variant or model name ("" for echo). Raises
    ``ImproperlyConfigured`` listing the valid forms for anything else.
    """
    raw = (spec if spec is not None else settings.CHATKIT_MODEL).strip()
    kind, _, name = raw.partition(":")
    kind, name = kind.strip().lower(), name.strip()
    if kind == "local" and (name or DEFAULT_VARIANT) in VARIANTS:
        return kind, name or DEFAULT_VARIANT
    if kind == "echo" and not name:
        return kind, ""
    if kind in ("openai", "openai-compatible") and name:
        return kind, name
    raise ImproperlyConfigured(
        f"CHATKIT_MODEL={raw!r} is not a valid model spec; use one of: {', '.join(VALID_SPECS)}"
    )


def get_model(spec: str | None = None) -> Model:
    """Return the ``agents.Model`` for ``spec`` (default ``settings.CHATKIT_MODEL``).

    ``local``/``local:<variant>`` return one shared :class:`~chat.llm.local.LocalModel`
    per variant per process (it is loaded lazily on first use). ``echo``
    returns a new :class:`~chat.llm.echo.EchoModel`; ``openai:<m>`` an
    ``OpenAIResponsesModel``; ``openai-compatible:<m>`` an
    ``OpenAIChatCompletionsModel`` on ``OPENAI_BASE_URL`` (api key
    ``OPENAI_API_KEY`` or the placeholder ``"not-needed"``).

    Raises ``ImproperlyConfigured`` for an unknown spec, or for
    ``openai-compatible`` without ``OPENAI_BASE_URL``.
    """
    kind, name = parse_spec(spec)
    if kind == "local":
        with _local_lock:
            if name not in _local_models:
                from .local import LocalModel

                _local_models[name] = LocalModel(name)
            return _local_models[name]
    if kind == "echo":
        from .echo import EchoModel

        return EchoModel()

    from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel
    from openai import AsyncOpenAI

    if kind == "openai":
        client = AsyncOpenAI(api_key=settings.OPENAI_API_KEY or None)
        return OpenAIResponsesModel(model=name, openai_client=client)
    if not settings.OPENAI_BASE_URL:
        raise ImproperlyConfigured(
            f"CHATKIT_MODEL={spec or settings.CHATKIT_MODEL!r} needs OPENAI_BASE_URL "
            "(the Chat Completions server's base URL, e.g. http://localhost:8080/v1)"
        )
    client = AsyncOpenAI(
        base_url=settings.OPENAI_BASE_URL, api_key=settings.OPENAI_API_KEY or "not-needed"
    )
    return OpenAIChatCompletionsModel(model=name, openai_client=client)


def model_supports_tools(spec: str | None = None) -> bool:
    """Whether the model for ``spec`` should be given tools (False for ``local:smollm2-135m``)."""
    kind, name = parse_spec(spec)
    if kind == "local":
        return VARIANTS[name].supports_tools
    return True


def configure_tracing() -> None:
    """Turn the Agents SDK's tracing on only if ``settings.CHATKIT_TRACING`` is set.

    The SDK exports traces to the OpenAI platform whenever an API key is
    present (see DESIGN.md), so it must be off unless the operator opts in.
    """
    set_tracing_disabled(not settings.CHATKIT_TRACING)
