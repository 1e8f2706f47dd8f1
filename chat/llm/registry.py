"""Model selection: turn a ``CHATKIT_MODEL`` spec into an ``agents.Model``.

The providers (:mod:`chat.llm.providers`) sit in the Agents SDK's
``MultiProviderMap`` under their prefix; the built-in ones plus any the
project names in ``CHATKIT_MODEL_PROVIDERS``. Valid specs::

    local                      the embedded Qwen2.5-Coder 0.5B (default)
    local:<variant>            another embedded variant (see chat.llm.weights.VARIANTS)
    echo                       EchoModel: echoes the user's words (tests, demos, benchmarks)
    openai:<model>             OpenAI Responses API, key from OPENAI_API_KEY
    openai-compatible:<model>  any Chat Completions server at OPENAI_BASE_URL
    <prefix>:<model>           a provider of CHATKIT_MODEL_PROVIDERS
"""

from __future__ import annotations

import threading

from agents import Model, ModelProvider, set_tracing_disabled
from agents.models.multi_provider import MultiProviderMap
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..conf import app_settings
from .providers import BUILTIN_PROVIDERS, ChatModelProvider

__all__ = [
    "configure_tracing",
    "get_model",
    "model_supports_tools",
    "parse_spec",
    "provider_map",
    "valid_forms",
]

_maps: dict[tuple, MultiProviderMap] = {}
_maps_lock = threading.Lock()


def provider_map() -> MultiProviderMap:
    """The prefix -> ``ModelProvider`` map for the current ``CHATKIT_MODEL_PROVIDERS``.

    Built once per value of the setting (providers keep their models, e.g.
    one embedded model per variant). Raises ``ImproperlyConfigured`` for a
    dotted path that doesn't import or isn't a ``ModelProvider`` class.
    """
    extra = dict(app_settings.CHATKIT_MODEL_PROVIDERS or {})
    key = tuple(sorted(extra.items()))
    with _maps_lock:
        if key not in _maps:
            classes: dict[str, type[ModelProvider]] = dict(BUILTIN_PROVIDERS)
            for prefix, path in extra.items():
                try:
                    cls = import_string(path)
                except ImportError as exc:
                    raise ImproperlyConfigured(f"CHATKIT_MODEL_PROVIDERS[{prefix!r}]: {exc}") from exc
                if not (isinstance(cls, type) and issubclass(cls, ModelProvider)):
                    raise ImproperlyConfigured(
                        f"CHATKIT_MODEL_PROVIDERS[{prefix!r}]={path!r} is not an agents.ModelProvider class"
                    )
                classes[prefix] = cls
            mapping = MultiProviderMap()
            mapping.set_mapping({prefix: cls() for prefix, cls in classes.items()})
            _maps[key] = mapping
        return _maps[key]


def valid_forms() -> list[str]:
    """Every spec form the current providers accept, e.g. ``["local", …, "openai:<model>"]``."""
    forms: list[str] = []
    for prefix, provider in provider_map().get_mapping().items():
        forms.extend(getattr(provider, "forms", ()) or (f"{prefix}:<model>",))
    return forms


def parse_spec(spec: str | None = None) -> tuple[str, str]:
    """Split ``spec`` (default ``CHATKIT_MODEL``) into ``(prefix, name)`` and check it.

    ``prefix`` names a provider (``local``, ``echo``, ``openai``,
    ``openai-compatible`` or one of ``CHATKIT_MODEL_PROVIDERS``); ``name`` is
    what that provider gets ("" when the spec has none). Loads no model.
    Raises ``ImproperlyConfigured`` listing the valid forms for anything else.
    """
    raw = (spec if spec is not None else app_settings.CHATKIT_MODEL).strip()
    prefix, _, name = raw.partition(":")
    prefix, name = prefix.strip().lower(), name.strip()
    provider = provider_map().get_provider(prefix) if prefix else None
    problem = "no provider has that prefix" if provider is None else None
    if isinstance(provider, ChatModelProvider):
        problem = provider.check(name)
    if problem:
        raise ImproperlyConfigured(
            f"CHATKIT_MODEL={raw!r} is not a valid model spec ({problem}); use one of: {', '.join(valid_forms())}"
        )
    return prefix, name


def get_model(spec: str | None = None) -> Model:
    """Return the ``agents.Model`` for ``spec`` (default ``CHATKIT_MODEL``).

    ``local``/``local:<variant>`` give one shared :class:`~chat.llm.local.LocalModel`
    per variant per process (loaded lazily on first use); ``echo`` a new
    :class:`~chat.llm.echo.EchoModel`; ``openai:<m>`` an ``OpenAIResponsesModel``;
    ``openai-compatible:<m>`` an ``OpenAIChatCompletionsModel`` on ``OPENAI_BASE_URL``.

    Raises ``ImproperlyConfigured`` for an invalid spec, or for
    ``openai-compatible`` without ``OPENAI_BASE_URL``.
    """
    prefix, name = parse_spec(spec)
    return provider_map().get_provider(prefix).get_model(name or None)


def model_supports_tools(spec: str | None = None) -> bool:
    """Whether the model for ``spec`` should be given tools (False for ``local:smollm2-135m``)."""
    prefix, name = parse_spec(spec)
    provider = provider_map().get_provider(prefix)
    return provider.supports_tools(name) if isinstance(provider, ChatModelProvider) else True


def configure_tracing() -> None:
    """Turn the Agents SDK's tracing on only if ``CHATKIT_TRACING`` is set.

    The SDK exports traces to the OpenAI platform whenever an API key is
    present (docs/architecture.md), so it must be off unless the operator opts in.
    """
    set_tracing_disabled(not app_settings.CHATKIT_TRACING)
