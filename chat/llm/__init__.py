"""The model layer: which ``agents.Model`` answers, and the embedded local model.

Modules: ``registry`` (spec -> Model, tracing switch), ``echo`` (EchoModel),
``local`` (LocalModel over llama.cpp), ``toolcalls`` (lenient tool-call
recogniser), ``weights`` (the GGUF's byte slices: join, verify, cache).
Heavy modules (xllamacpp, the OpenAI client) load only when a model needs them.
"""

from .registry import VALID_SPECS, configure_tracing, get_model, model_supports_tools, parse_spec

__all__ = ["VALID_SPECS", "configure_tracing", "get_model", "model_supports_tools", "parse_spec"]
