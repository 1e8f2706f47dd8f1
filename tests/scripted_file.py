"""A scripted model for server processes: each model call takes the next step from a JSON file.

``CHATKIT_MODEL_PROVIDERS={"scripted-file": "tests.scripted_file.FileScriptProvider"}`` and
``CHATKIT_MODEL=scripted-file:<path>`` make every turn answer from the list in ``<path>``:
``{"call": "<tool>", "arguments": {...}}`` (a function call) or ``{"say": "<text>"}`` (a
message). Steps are taken under a file lock, so several processes share one script.
Each step is played by ``agents.testing.ScriptedModel``.
"""

from __future__ import annotations

import fcntl
import json
import uuid
from pathlib import Path

from agents import Model, ModelProvider
from agents.testing import ScriptedModel, assistant_message, function_call


def take_step(path: Path) -> dict:
    with open(path, "r+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        steps = json.load(file)
        if not steps:
            raise RuntimeError(f"The script {path} has no steps left")
        step, rest = steps[0], steps[1:]
        file.seek(0)
        file.truncate()
        json.dump(rest, file)
    return step


def _scripted(step: dict) -> ScriptedModel:
    model = ScriptedModel()
    if "call" in step:
        model.enqueue([function_call(step["call"], step.get("arguments", {}), call_id=f"call_{uuid.uuid4().hex[:12]}")])
    else:
        model.enqueue([assistant_message(step["say"], item_id=f"msg_{uuid.uuid4().hex}")])
    return model


class FileScriptModel(Model):
    """An ``agents.Model`` answering each call with the next step of a script file."""

    def __init__(self, path: str):
        self.path = Path(path)

    async def get_response(self, *args, **kwargs):
        return await _scripted(take_step(self.path)).get_response(*args, **kwargs)

    async def stream_response(self, *args, **kwargs):
        async for event in _scripted(take_step(self.path)).stream_response(*args, **kwargs):
            yield event


class FileScriptProvider(ModelProvider):
    def get_model(self, model_name):
        return FileScriptModel(model_name)
