"""The frontend's protocol types can't drift from the Python SDK's.

``frontend/scripts/protocol-shapes.mjs`` reads ``src/protocol/types.ts`` and
``requests.ts`` with TypeScript's own checker and prints each type's shape:
its field names (which are optional) and, for a union, each member's ``type``
tag. Here the same shape is read from the SDK's pydantic JSON Schema
(``TypeAdapter(...).json_schema()``), and the two are compared:

- every field the frontend names exists in the SDK (a renamed field fails);
- every field the SDK requires is in the frontend's type (a new required field
  fails), and required in what the frontend *sends*;
- every event, item and item-update type the SDK can send is one the frontend
  knows (a new event type fails); what the frontend sends is an SDK request.

Widgets are not compared here: their types come from ``@openai/chatkit`` itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from typing import Any

import pytest
from chatkit import actions, types
from pydantic import TypeAdapter

from tests.servers import PROJECT

FRONTEND = PROJECT / "frontend"

# The SDK's generic Page[TType] default can't be shown in a schema; it doesn't matter here.
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.json_schema.PydanticJsonSchemaWarning")

# TS type name -> (SDK type, direction). "received": the frontend must know every
# member the SDK may send; "sent": every member the frontend sends is the SDK's.
COMPARED: dict[str, tuple[Any, str]] = {
    "ThreadStreamEvent": (types.ThreadStreamEvent, "received"),
    "ThreadItem": (types.ThreadItem, "received"),
    "ThreadItemUpdate": (types.ThreadItemUpdate, "received"),
    "Thread": (types.Thread, "received"),
    "ThreadMetadata": (types.ThreadMetadata, "received"),
    "ThreadStatus": (types.ThreadStatus, "received"),
    "Annotation": (types.Annotation, "received"),
    "Workflow": (types.Workflow, "received"),
    "Task": (types.Task, "received"),
    "ActionConfig": (actions.ActionConfig, "received"),
    "ChatKitRequest": (types.ChatKitReq, "sent"),
    "UserMessageInput": (types.UserMessageInput, "sent"),
}


@cache
def ts_shapes() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (FRONTEND / "node_modules" / "typescript").exists():
        pytest.skip("frontend/node_modules missing: run `make frontend` (npm ci)")
    result = subprocess.run(
        [node, "scripts/protocol-shapes.mjs"], cwd=FRONTEND, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


class SchemaShapes:
    """Shapes (the same form as the script's) read from one pydantic JSON Schema."""

    def __init__(self, schema: dict):
        self.defs = schema.get("$defs", {})
        self.root = schema

    def resolve(self, node: dict) -> dict:
        while "$ref" in node:
            node = self.defs[node["$ref"].rsplit("/", 1)[-1]]
        return node

    def shape(self, node: dict, depth: int = 0) -> dict | None:
        node = self.resolve(node)
        if depth > 6:
            return None
        if node.get("type") == "array" and "items" in node:
            return self.shape(node["items"], depth)
        options = node.get("oneOf") or node.get("anyOf")
        if options:
            options = [self.resolve(o) for o in options if self.resolve(o).get("type") != "null"]
            if len(options) == 1:
                return self.shape(options[0], depth)
            members = {}
            for option in options:
                option_shape = self.shape(option, depth)
                tags = self.tags(option)
                if option_shape is None or option_shape["kind"] != "object" or not tags:
                    return None
                for tag in tags:
                    members[tag] = option_shape
            return {"kind": "union", "members": members}
        if node.get("type") == "object" and node.get("properties"):
            required = set(node.get("required", ()))
            return {
                "kind": "object",
                "props": {
                    name: {
                        "optional": name not in required,
                        "shape": None if name == "type" else self.shape(prop, depth + 1),
                    }
                    for name, prop in node["properties"].items()
                },
            }
        return None

    def tags(self, node: dict) -> list[str]:
        prop = self.resolve(node).get("properties", {}).get("type", {})
        if "const" in prop:
            return [prop["const"]]
        return list(prop.get("enum", ()))


def sdk_shape(sdk_type: Any) -> dict | None:
    schema = TypeAdapter(sdk_type).json_schema()
    return SchemaShapes(schema).shape(schema)


def differences(ts: dict | None, py: dict | None, path: str, direction: str) -> list[str]:
    """Where the frontend's shape ``ts`` disagrees with the SDK's ``py`` (empty when they agree)."""
    if ts is None or py is None:
        return []  # a leaf on either side: nothing structured to compare
    if ts["kind"] == "union" and py["kind"] == "union":
        found = []
        for tag in sorted(set(ts["members"]) - set(py["members"])):
            found.append(f"{path}: the frontend has type {tag!r}, the SDK has no such member")
        if direction == "received":
            for tag in sorted(set(py["members"]) - set(ts["members"])):
                found.append(f"{path}: the SDK may send type {tag!r}, the frontend's type lacks it")
        for tag in sorted(set(ts["members"]) & set(py["members"])):
            found += differences(ts["members"][tag], py["members"][tag], f"{path}[{tag}]", direction)
        return found
    if ts["kind"] == "object" and py["kind"] == "union":
        # One TS type for several SDK members (e.g. Task): it must fit each of them.
        return [
            d
            for tag, member in sorted(py["members"].items())
            for d in differences(ts, member, f"{path}[{tag}]", direction)
        ]
    if ts["kind"] == "union" and py["kind"] == "object":
        return [f"{path}: the frontend has a union where the SDK has one object"]
    found = []
    ts_props, py_props = ts["props"], py["props"]
    for name in sorted(set(ts_props) - set(py_props)):
        found.append(f"{path}.{name}: the frontend names a field the SDK doesn't have")
    for name, prop in sorted(py_props.items()):
        if prop["optional"]:
            continue
        if name not in ts_props:
            found.append(f"{path}.{name}: the SDK requires this field, the frontend's type lacks it")
        elif direction == "sent" and ts_props[name]["optional"]:
            found.append(f"{path}.{name}: the SDK requires this field, the frontend may leave it out")
    for name in sorted(set(ts_props) & set(py_props)):
        found += differences(ts_props[name]["shape"], py_props[name]["shape"], f"{path}.{name}", direction)
    return found


@pytest.mark.parametrize("name", sorted(COMPARED))
def test_frontend_type_matches_the_sdk(name):
    sdk_type, direction = COMPARED[name]
    assert name in ts_shapes(), f"{name} is no longer exported by frontend/src/protocol"
    ts, py = ts_shapes()[name], sdk_shape(sdk_type)
    assert ts is not None and py is not None, (name, ts, py)
    assert differences(ts, py, name, direction) == []


def test_the_comparison_catches_drift():
    """A renamed field, a new required field and an unknown event type each show up."""
    py = sdk_shape(types.ThreadStreamEvent)
    ts = json.loads(json.dumps(ts_shapes()["ThreadStreamEvent"]))
    notice = ts["members"]["notice"]["props"]
    notice["text"] = notice.pop("message")
    del ts["members"]["progress_update"]
    found = differences(ts, py, "ThreadStreamEvent", "received")
    assert any("notice].text: the frontend names a field" in f for f in found), found
    assert any("notice].message: the SDK requires" in f for f in found), found
    assert any("'progress_update', the frontend's type lacks it" in f for f in found), found
