"""Failed model calls as messages a person can act on."""

from __future__ import annotations

import openai

from .weights import WeightsError


def model_error(exc: Exception) -> tuple[str, bool]:
    """A message a person can act on for a failed model call, and whether a retry can help.

    Returns ``(message, allow_retry)`` for the turn's ``error`` event
    (``chatkit.errors.CustomStreamError``). A provider's own errors (the
    ``openai`` SDK's, our embedded model's) are recognised here, so the server
    never needs to know which provider answered.
    """
    if isinstance(exc, WeightsError):
        return f"The embedded model can't be loaded: {exc}", False
    if isinstance(exc, openai.AuthenticationError):
        return "The model provider refused the API key. Check OPENAI_API_KEY.", False
    if isinstance(exc, openai.RateLimitError):
        return "The model provider is rate-limiting requests. Wait a moment and retry.", True
    if isinstance(exc, openai.APIConnectionError):
        return "The model server could not be reached. Check OPENAI_BASE_URL and retry.", True
    if isinstance(exc, openai.APIStatusError):
        return f"The model server answered with HTTP {exc.status_code}. Retry, or check its logs.", True
    return "The model failed while writing the answer. Retry, or check the server log.", True
