"""The model layer: which ``agents.Model`` answers, and the embedded local model.

Modules: ``providers`` (one ``agents.ModelProvider`` per spec prefix),
``registry`` (spec -> Model, tracing switch), ``errors`` (failed calls as
messages), ``echo`` (EchoModel), ``local`` (LocalModel over llama.cpp),
``toolcalls`` (lenient tool-call recogniser), ``weights`` (the GGUF's byte
slices: join, verify, cache). Heavy modules (xllamacpp) load only when a
model needs them.
"""

from .errors import model_error
from .registry import configure_tracing, get_model, model_supports_tools, parse_spec, valid_forms

__all__ = ["configure_tracing", "get_model", "model_error", "model_supports_tools", "parse_spec", "valid_forms"]
