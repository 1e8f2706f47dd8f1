"""Widget templates as tools, widget actions, workflows and approvals, through the real ASGI stack.

The model is a ``ScriptedModel``: each test scripts which tool it calls and
what it answers, and reads back what the model was given.
"""

from __future__ import annotations

import json

import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from asgiref.sync import sync_to_async

from chat import models
from chat.store import new_id
from chat.widgets.templates import DATA_DIR, load_files
from tests.approval_agent import SENT
from tests.helpers import assistant_text, user_input

pytestmark = pytest.mark.django_db(transaction=True)


def reply(text: str):
    return [assistant_message(text, item_id=new_id("message"))]


def done_items(events: list[dict], kind: str) -> list[dict]:
    return [e["item"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == kind]


async def enable(*slugs: str, needs_approval: bool = False) -> None:
    """Load shipped templates from their files and enable them, as an admin would."""
    await sync_to_async(load_files)([DATA_DIR / f"{slug}.widget" for slug in slugs], enable=True)
    if needs_approval:
        await models.WidgetTemplate.objects.filter(slug__in=slugs).aupdate(needs_approval=True)


CHOICE = {
    "question": "Which plan?",
    "options": [{"label": "Starter", "value": "starter"}, {"label": "Team", "value": "team"}],
}


def buttons(widget: dict) -> list[dict]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "Button":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(widget)
    return found


# --- templates as tools ----------------------------------------------------------------


async def test_enabling_a_template_adds_its_tool_on_the_next_turn(client, scripted):
    scripted.enqueue(reply("one"))
    scripted.enqueue(reply("two"))
    thread_id, _ = await client.new_thread("hello")
    assert "widget_choice_card" not in [t.name for t in scripted.last_call.tools]

    await enable("choice_card")
    await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("again"))
    tools = {t.name: t for t in scripted.last_call.tools}
    assert "widget_choice_card" in tools
    tool = tools["widget_choice_card"]
    assert tool.params_json_schema["required"] == ["question", "options"]
    assert "$schema" not in tool.params_json_schema
    assert "pick one of a few options" in tool.description


async def test_a_template_tool_with_good_data_shows_the_widget(client, scripted):
    await enable("choice_card")
    scripted.enqueue([function_call("widget_choice_card", CHOICE, call_id="call_w")])
    scripted.enqueue(reply("Pick a plan above."))
    thread_id, events = await client.new_thread("Which plan should I take?")

    widgets = done_items(events, "widget")
    assert len(widgets) == 1
    assert [b["label"] for b in buttons(widgets[0]["widget"])] == ["Starter", "Team"]
    assert assistant_text(events) == "Pick a plan above."
    output = next(i for i in scripted.last_call.input if i.get("type") == "function_call_output")
    assert "is shown to the user" in output["output"]
    assert [i.type for i in await _items(thread_id)] == ["user_message", "widget", "assistant_message"]


async def test_a_template_tool_with_bad_data_tells_the_model_and_shows_nothing(client, scripted):
    await enable("choice_card")
    scripted.enqueue(
        [
            function_call(
                "widget_choice_card",
                {"question": "Which plan?", "options": [{"label": "Only one"}]},
                call_id="call_bad",
            )
        ]
    )
    scripted.enqueue([function_call("widget_choice_card", CHOICE, call_id="call_good")])
    scripted.enqueue(reply("There you go."))
    _, events = await client.new_thread("Which plan?")

    error = next(i for i in scripted.calls[1].input if i.get("type") == "function_call_output")
    assert error["output"].startswith("Error: the arguments don't match")
    assert "$.options" in error["output"] and "'value' is a required property" in error["output"]
    assert "Nothing was shown" in error["output"]
    assert len(done_items(events, "widget")) == 1  # only the corrected call drew one


async def _items(thread_id: str) -> list[models.Item]:
    return [i async for i in models.Item.objects.filter(thread_id=thread_id).order_by("seq")]


# --- actions ---------------------------------------------------------------------------------


async def test_a_choice_updates_the_widget_and_reaches_the_next_turn(client, scripted):
    await enable("choice_card")
    scripted.enqueue([function_call("widget_choice_card", CHOICE, call_id="call_w")])
    scripted.enqueue(reply("Pick one."))
    scripted.enqueue(reply("Team it is."))
    thread_id, events = await client.new_thread("Which plan?")
    widget = done_items(events, "widget")[0]
    team = buttons(widget["widget"])[1]

    events = await client.stream(
        "threads.custom_action", thread_id=thread_id, item_id=widget["id"], action=team["onClickAction"]
    )
    replaced = [e["item"] for e in events if e["type"] == "thread.item.replaced"]
    assert replaced and replaced[0]["id"] == widget["id"]
    after = buttons(replaced[0]["widget"])
    assert all(b["disabled"] and "onClickAction" not in b for b in after)
    assert [b.get("iconStart") for b in after] == [None, "check"] and after[1]["style"] == "primary"
    assert assistant_text(events) == "Team it is."
    assert not done_items(events, "hidden_context_item")  # never sent to the client

    # The model answering the choice saw it as hidden context.
    seen = json.dumps(scripted.last_call.input, ensure_ascii=False)
    assert "the user chose “Team”" in seen and "'team'" in seen
    stored = await models.Item.objects.aget(thread_id=thread_id, id=widget["id"])
    assert buttons(stored.data["widget"])[1]["iconStart"] == "check"
    assert [i.type for i in await _items(thread_id)][-2:] == ["hidden_context_item", "assistant_message"]

    # A second click on the answered widget is refused.
    events = await client.stream(
        "threads.custom_action", thread_id=thread_id, item_id=widget["id"], action=team["onClickAction"]
    )
    assert events[-1]["type"] == "error" and "already made" in events[-1]["message"]


async def test_a_sync_choice_returns_the_updated_widget_and_the_next_turn_knows(client, scripted):
    await enable("choice_card")
    scripted.enqueue([function_call("widget_choice_card", CHOICE, call_id="call_w")])
    scripted.enqueue(reply("Pick one."))
    scripted.enqueue(reply("Starter, noted."))
    thread_id, events = await client.new_thread("Which plan?")
    widget = done_items(events, "widget")[0]
    starter = buttons(widget["widget"])[0]

    result = await client.json(
        "threads.sync_custom_action", thread_id=thread_id, item_id=widget["id"], action=starter["onClickAction"]
    )
    assert buttons(result["updated_item"]["widget"])[0]["iconStart"] == "check"
    stored = await models.Item.objects.aget(thread_id=thread_id, id=widget["id"])
    assert buttons(stored.data["widget"])[0]["disabled"] is True

    await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("ok"))
    assert "the user chose “Starter”" in json.dumps(scripted.last_call.input, ensure_ascii=False)

    again = await client.request(
        "threads.sync_custom_action", thread_id=thread_id, item_id=widget["id"], action=starter["onClickAction"]
    )
    assert again.status_code == 400 and "already made" in again.json()["error"]["message"]


async def test_a_form_submission_reaches_the_model(client, scripted):
    await enable("form")
    form = {"title": "Call back", "fields": [{"name": "name", "label": "Name"}, {"name": "phone", "label": "Phone"}]}
    scripted.enqueue([function_call("widget_form", form, call_id="call_f")])
    scripted.enqueue(reply("Fill it in."))
    scripted.enqueue(reply("Thanks Ana, we'll call."))
    thread_id, events = await client.new_thread("Call me")
    widget = done_items(events, "widget")[0]
    action = {**widget["widget"]["confirm"]["action"]}
    action["payload"] = {**action["payload"], "name": "Ana", "phone": "123"}

    events = await client.stream("threads.custom_action", thread_id=thread_id, item_id=widget["id"], action=action)
    closed = next(e["item"] for e in events if e["type"] == "thread.item.replaced")
    assert "confirm" not in closed["widget"]
    assert assistant_text(events) == "Thanks Ana, we'll call."
    assert '"name": "Ana"' in json.dumps(scripted.last_call.input).replace('\\"', '"')


async def test_an_action_on_another_owners_widget_is_not_found(make_client, scripted):
    await enable("choice_card")
    alice, mallory = make_client(), make_client()
    scripted.enqueue([function_call("widget_choice_card", CHOICE, call_id="call_w")])
    scripted.enqueue(reply("Pick one."))
    thread_id, events = await alice.new_thread("Which plan?")
    widget = done_items(events, "widget")[0]
    action = buttons(widget["widget"])[0]["onClickAction"]

    for kind in ("threads.custom_action", "threads.sync_custom_action"):
        response = await mallory.request(kind, thread_id=thread_id, item_id=widget["id"], action=action)
        assert response.status_code == 404, response.text


async def test_an_action_payload_of_the_wrong_shape_is_refused(client, scripted):
    await enable("choice_card")
    scripted.enqueue([function_call("widget_choice_card", CHOICE, call_id="call_w")])
    scripted.enqueue(reply("Pick one."))
    thread_id, events = await client.new_thread("Which plan?")
    widget = done_items(events, "widget")[0]
    response = await client.request(
        "threads.custom_action",
        thread_id=thread_id,
        item_id=widget["id"],
        action={"type": "widget.choose", "payload": {}},
    )
    assert response.status_code == 400 and "params.action.payload.value" in response.json()["error"]["message"]


# --- workflows --------------------------------------------------------------------------------


async def test_a_multi_step_tool_streams_a_workflow(client, scripted):
    scripted.enqueue(
        [function_call("world_clock", {"timezones": ["Europe/Paris", "Asia/Tokyo", "Nowhere/City"]}, call_id="call_c")]
    )
    scripted.enqueue(reply("Here are the times."))
    thread_id, events = await client.new_thread("Time in Paris and Tokyo?")

    added = [e for e in events if e["type"] == "thread.item.added" and e["item"]["type"] == "workflow"]
    assert len(added) == 1
    workflow_id = added[0]["item"]["id"]
    updates = [e["update"] for e in events if e["type"] == "thread.item.updated" and e["item_id"] == workflow_id]
    kinds = [u["type"] for u in updates]
    assert kinds.count("workflow.task.added") == 2 and kinds.count("workflow.task.updated") == 3
    finished = done_items(events, "workflow")[0]
    tasks = finished["workflow"]["tasks"]
    assert [t["title"] for t in tasks] == ["Europe/Paris", "Asia/Tokyo", "Nowhere/City"]
    assert all(t["status_indicator"] == "complete" for t in tasks)
    assert "Unknown time zone" in tasks[2]["content"]
    assert finished["workflow"]["summary"] is not None
    assert assistant_text(events) == "Here are the times."
    stored = await models.Item.objects.aget(thread_id=thread_id, id=workflow_id)
    assert len(stored.data["workflow"]["tasks"]) == 3


# --- approvals --------------------------------------------------------------------------------


@pytest.fixture
def approval_model(settings, use_model):
    settings.CHATKIT_AGENT = "tests.approval_agent.approval_agent"
    SENT.clear()
    model = ScriptedModel()
    use_model(model)
    return model


def approval_card(events: list[dict]) -> dict:
    cards = [w for w in done_items(events, "widget") if "Approve this action?" in json.dumps(w)]
    assert cards, [e["type"] for e in events]
    return cards[0]


async def test_a_tool_needing_approval_pauses_then_runs_when_approved(client, approval_model):
    approval_model.enqueue(
        [function_call("send_email", {"to": "ana@example.com", "subject": "Hi"}, call_id="call_mail")]
    )
    approval_model.enqueue(reply("Sent it."))
    thread_id, events = await client.new_thread("Email Ana")

    card = approval_card(events)
    assert SENT == [] and not [e for e in events if e["type"] == "error"]
    assert "ana@example.com" in json.dumps(card["widget"]) and "Send an email" in json.dumps(card["widget"])
    row = await models.ToolApproval.objects.aget(thread_id=thread_id)
    assert row.status == "pending" and row.item_id == card["id"] and row.calls[0]["name"] == "send_email"
    approve = next(b for b in buttons(card["widget"]) if b["label"] == "Approve")["onClickAction"]

    events = await client.stream("threads.custom_action", thread_id=thread_id, item_id=card["id"], action=approve)
    assert SENT == [("ana@example.com", "Hi")]
    assert assistant_text(events) == "Sent it."
    decided = next(e["item"] for e in events if e["type"] == "thread.item.replaced")
    assert "Approved by you" in json.dumps(decided["widget"]) and not buttons(decided["widget"])
    output = next(i for i in approval_model.last_call.input if i.get("type") == "function_call_output")
    assert output["output"] == "Sent to ana@example.com."
    row = await models.ToolApproval.objects.aget(thread_id=thread_id)
    assert row.status == "approved" and row.decided_at is not None

    # A second click (another tab, a double click) can't decide it again.
    events = await client.stream("threads.custom_action", thread_id=thread_id, item_id=card["id"], action=approve)
    assert events[-1]["type"] == "error" and "already approved" in events[-1]["message"]
    assert SENT == [("ana@example.com", "Hi")]


async def test_a_denied_tool_call_never_runs_and_the_model_is_told(client, approval_model):
    approval_model.enqueue(
        [function_call("send_email", {"to": "bob@example.com", "subject": "Hi"}, call_id="call_mail")]
    )
    approval_model.enqueue(reply("OK, I won't send it."))
    thread_id, events = await client.new_thread("Email Bob")
    card = approval_card(events)
    deny = next(b for b in buttons(card["widget"]) if b["label"] == "Deny")["onClickAction"]

    events = await client.stream("threads.custom_action", thread_id=thread_id, item_id=card["id"], action=deny)
    assert SENT == []
    assert assistant_text(events) == "OK, I won't send it."
    output = next(i for i in approval_model.last_call.input if i.get("type") == "function_call_output")
    assert "denied" in output["output"]
    assert (await models.ToolApproval.objects.aget(thread_id=thread_id)).status == "denied"

    approve = {**deny, "type": "approval.approve"}
    events = await client.stream("threads.custom_action", thread_id=thread_id, item_id=card["id"], action=approve)
    assert events[-1]["type"] == "error" and SENT == []


async def test_another_owner_cant_decide_and_a_locked_thread_refuses(make_client, approval_model):
    alice, mallory = make_client(), make_client()
    approval_model.enqueue(
        [function_call("send_email", {"to": "ana@example.com", "subject": "Hi"}, call_id="call_mail")]
    )
    thread_id, events = await alice.new_thread("Email Ana")
    card = approval_card(events)
    approve = next(b for b in buttons(card["widget"]) if b["label"] == "Approve")["onClickAction"]

    response = await mallory.request("threads.custom_action", thread_id=thread_id, item_id=card["id"], action=approve)
    assert response.status_code == 404
    # Mallory's own thread with Alice's approval id: not found either.
    approval_model.enqueue(reply("hi"))
    own_thread, own_events = await mallory.new_thread("hi")
    own_item = done_items(own_events, "user_message")[0]["id"]
    events = await mallory.stream("threads.custom_action", thread_id=own_thread, item_id=None, action=approve)
    assert events[-1]["type"] == "error" and "not found" in events[-1]["message"], own_item

    await models.Thread.objects.filter(id=thread_id).aupdate(
        status="locked",
        data={
            "id": thread_id,
            "created_at": "2026-01-01T00:00:00",
            "status": {"type": "locked", "reason": "Locked by a moderator"},
        },
    )
    events = await alice.stream("threads.custom_action", thread_id=thread_id, item_id=card["id"], action=approve)
    assert events[-1]["type"] == "error" and SENT == []
    assert (await models.ToolApproval.objects.aget(thread_id=thread_id)).status == "pending"


async def test_a_widget_template_can_need_approval(client, scripted):
    await enable("summary_card", needs_approval=True)
    summary = {"title": "Order", "rows": [{"label": "Total", "value": "€3"}]}
    scripted.enqueue([function_call("widget_summary_card", summary, call_id="call_s")])
    scripted.enqueue(reply("Here is the summary."))
    thread_id, events = await client.new_thread("Summarise my order")
    card = approval_card(events)
    assert len(done_items(events, "widget")) == 1  # only the card: the summary waits

    approve = next(b for b in buttons(card["widget"]) if b["label"] == "Approve")["onClickAction"]
    events = await client.stream("threads.custom_action", thread_id=thread_id, item_id=card["id"], action=approve)
    shown = done_items(events, "widget")
    assert len(shown) == 1 and "Order" in json.dumps(shown[0]["widget"])
    assert assistant_text(events) == "Here is the summary."
