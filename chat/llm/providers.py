"""The model providers behind ``CHATKIT_MODEL`` specs: one ``agents.ModelProvider`` per prefix.

A spec is ``"<prefix>"`` or ``"<prefix>:<name>"``; the prefix picks a provider
and the provider turns the name into an ``agents.Model`` (the Agents SDK's own
``ModelProvider`` interface). Built in:

=====================  ====================================================
``local[:<variant>]``  :class:`LocalProvider`, the embedded llama.cpp models
``echo``               :class:`EchoProvider`, repeats the user's words
``openai:<model>``     the SDK's ``OpenAIProvider`` (Responses API)
``openai-compatible``  :class:`OpenAICompatibleProvider`, any Chat
                       Completions server at ``OPENAI_BASE_URL``
=====================  ====================================================

Adding a provider is one class: subclass :class:`ChatModelProvider` (or any
``agents.ModelProvider``) and name it in ``CHATKIT_MODEL_PROVIDERS``
(``{"myprefix": "myapp.models.MyProvider"}``); ``myprefix:<name>`` then works
everywhere a spec does.
"""

from __future__ import annotations

import threading

from agents import Model, ModelProvider, OpenAIProvider
from django.core.exceptions import ImproperlyConfigured

from ..conf import app_settings
from .weights import DEFAULT_VARIANT, VARIANTS


class ChatModelProvider(ModelProvider):
    """A ``ModelProvider`` that can also check a name and say whether its models call tools.

    Attributes:
        forms: the spec forms it accepts, for error messages (``"openai:<model>"``).
    """

    forms: tuple[str, ...] = ()

    def check(self, name: str) -> str | None:
        """Why ``name`` can't be served (a sentence), or ``None`` when it can. Loads nothing."""
        return None

    def supports_tools(self, name: str) -> bool:
        """Whether the model ``name`` should be given tools."""
        return True


class LocalProvider(ChatModelProvider):
    """``local`` / ``local:<variant>``: the embedded model, one shared instance per variant."""

    forms = ("local", *(f"local:{v}" for v in VARIANTS))

    def __init__(self) -> None:
        self._models: dict[str, Model] = {}
        self._lock = threading.Lock()

    def check(self, name: str) -> str | None:
        if (name or DEFAULT_VARIANT) not in VARIANTS:
            return f"there is no embedded variant {name!r} (known: {', '.join(VARIANTS)})"
        return None

    def supports_tools(self, name: str) -> bool:
        return VARIANTS[name or DEFAULT_VARIANT].supports_tools

    def get_model(self, model_name: str | None) -> Model:
        variant = model_name or DEFAULT_VARIANT
        with self._lock:
            if variant not in self._models:
                from .local import LocalModel  # loads xllamacpp: only when a local model is used

                self._models[variant] = LocalModel(variant)
            return self._models[variant]


class EchoProvider(ChatModelProvider):
    """``echo``: :class:`~chat.llm.echo.EchoModel` (tests, demos, benchmarks)."""

    forms = ("echo",)

    def check(self, name: str) -> str | None:
        return "echo takes no model name" if name else None

    def get_model(self, model_name: str | None) -> Model:
        from .echo import EchoModel

        return EchoModel()


class OpenAIResponsesProvider(ChatModelProvider):
    """``openai:<model>``: the SDK's ``OpenAIProvider`` on the Responses API, key ``OPENAI_API_KEY``."""

    forms = ("openai:<model>",)

    def check(self, name: str) -> str | None:
        return None if name else "name the model, e.g. openai:gpt-4.1-mini"

    def get_model(self, model_name: str | None) -> Model:
        provider = OpenAIProvider(api_key=app_settings.OPENAI_API_KEY or None, use_responses=True)
        return provider.get_model(model_name)


class OpenAICompatibleProvider(ChatModelProvider):
    """``openai-compatible:<model>``: any Chat Completions server at ``OPENAI_BASE_URL``.

    Raises ``ImproperlyConfigured`` from :meth:`get_model` without ``OPENAI_BASE_URL``
    (``manage.py check`` reports it as ``chat.E003`` first).
    """

    forms = ("openai-compatible:<model>",)

    def check(self, name: str) -> str | None:
        return None if name else "name the model, e.g. openai-compatible:qwen2.5"

    def get_model(self, model_name: str | None) -> Model:
        if not app_settings.OPENAI_BASE_URL:
            raise ImproperlyConfigured(
                f"CHATKIT_MODEL='openai-compatible:{model_name}' needs OPENAI_BASE_URL "
                "(the Chat Completions server's base URL, e.g. http://localhost:8080/v1)"
            )
        provider = OpenAIProvider(
            api_key=app_settings.OPENAI_API_KEY or "not-needed",
            base_url=app_settings.OPENAI_BASE_URL,
            use_responses=False,
        )
        return provider.get_model(model_name)


BUILTIN_PROVIDERS: dict[str, type[ModelProvider]] = {
    "local": LocalProvider,
    "echo": EchoProvider,
    "openai": OpenAIResponsesProvider,
    "openai-compatible": OpenAICompatibleProvider,
}
