"""The app's seams, through the real ASGI stack: CHATKIT_AGENT, CHATKIT_OWNER,
CHATKIT_MODEL_PROVIDERS, CHATKIT_MODELS, the app's own defaults, and adopting an
anonymous visitor's threads at login."""

from __future__ import annotations

import re
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from asgiref.sync import sync_to_async

from chat import models
from chat.agents import build_agent
from chat.conf import DEFAULTS, app_settings
from chat.store import new_id
from tests.helpers import CSRF_TOKEN, SCRIPTED_MODELS, assistant_text, user_input

pytestmark = pytest.mark.django_db(transaction=True)

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_agent_code() -> str:
    """The first Python block of the README's "Customise the agent" section, as a user would paste it."""
    section = README.read_text().split("## Customise the agent", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def readme_agent(tmp_path, monkeypatch, settings):
    """The README's agent module, written to disk and named by CHATKIT_AGENT."""
    name = f"readme_agent_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(readme_agent_code())
    monkeypatch.syspath_prepend(str(tmp_path))
    settings.CHATKIT_AGENT = f"{name}.support_agent"
    yield name
    sys.modules.pop(name, None)


async def test_the_readme_agent_answers_through_chatkit(readme_agent, client, scripted):
    day = (date.today() + timedelta(days=10)).isoformat()
    scripted.enqueue([function_call("days_until", {"day": day}, call_id="call_days")])
    scripted.enqueue([assistant_message("Ten days to go.", item_id=new_id("message"))])
    thread_id, events = await client.new_thread("How long until my order ships?")

    assert assistant_text(events) == "Ten days to go."
    first, second = scripted.calls
    assert "We open 9 to 5" in first.system_instructions
    assert [tool.name for tool in first.tools] == ["days_until"]
    assert first.model_settings.temperature == 0.2
    outputs = [i for i in second.input if isinstance(i, dict) and i.get("type") == "function_call_output"]
    assert outputs and outputs[0]["output"] == "10 days"


async def test_a_model_without_tools_gets_the_same_agent_without_them(readme_agent):
    model = ScriptedModel()
    with_tools, without = build_agent(model), build_agent(model, tools=False)
    assert [t.name for t in with_tools.tools] == ["days_until"] and without.tools == []
    assert without.instructions == with_tools.instructions and without.name == "Support"


def test_an_agent_path_that_is_not_an_agent_is_refused(settings):
    settings.CHATKIT_AGENT = "tests.helpers.user_input"
    with pytest.raises(TypeError, match="not agents.Agent"):
        build_agent(ScriptedModel())


async def test_a_custom_owner_function_scopes_every_request(settings, make_client):
    settings.CHATKIT_OWNER = "tests.helpers.team_owner"
    red1, red2, blue = make_client(), make_client(), make_client()
    for c, team in ((red1, "red"), (red2, "red"), (blue, "blue")):
        c.http.headers["X-Team"] = team
    thread_id, _ = await red1.new_thread("team red's plan")
    assert [t["id"] for t in (await red2.json("threads.list"))["data"]] == [thread_id]
    assert (await blue.json("threads.list"))["data"] == []
    assert (await blue.request("threads.get_by_id", thread_id=thread_id)).status_code == 404
    assert (await models.Thread.objects.aget(id=thread_id)).owner == "team:red"


async def test_a_model_provider_of_the_project_answers(settings, client):
    name = uuid.uuid4().hex
    SCRIPTED_MODELS[name] = model = ScriptedModel()
    model.enqueue([assistant_message("from my provider", item_id=new_id("message"))])
    settings.CHATKIT_MODEL_PROVIDERS = {"scripted": "tests.helpers.ScriptedProvider"}
    settings.CHATKIT_MODEL = f"scripted:{name}"
    _, events = await client.new_thread("hello")
    assert assistant_text(events) == "from my provider"


async def test_a_user_picks_a_listed_model_and_the_message_records_it(settings, client):
    settings.CHATKIT_MODELS = [{"id": "echo", "label": "Echo"}]
    name = uuid.uuid4().hex
    SCRIPTED_MODELS[name] = model = ScriptedModel()
    model.enqueue([assistant_message("picked", item_id=new_id("message"))])
    settings.CHATKIT_MODEL_PROVIDERS = {"scripted": "tests.helpers.ScriptedProvider"}
    settings.CHATKIT_MODELS = [{"id": "echo", "label": "Echo"}, {"id": f"scripted:{name}", "label": "Scripted"}]

    picked = user_input("which model?")
    picked["inference_options"] = {"model": f"scripted:{name}"}
    thread_id, events = await client.new_thread_with(picked)
    assert assistant_text(events) == "picked"
    _, events = await client.new_thread("default model")
    assert assistant_text(events) == "default model"  # echo, the configured default

    user = await models.Item.objects.filter(thread_id=thread_id, type="user_message").aget()
    assert user.data["inference_options"]["model"] == f"scripted:{name}"

    refused = user_input("sneaky")
    refused["inference_options"] = {"model": "openai:gpt-5"}
    response = await client.request("threads.create", input=refused)
    assert response.status_code == 400 and response.json()["error"]["code"] == "model_not_allowed"


async def test_the_app_works_with_none_of_its_settings(settings, client):
    for name in DEFAULTS:
        if hasattr(settings, name):
            delattr(settings, name)
    assert DEFAULTS["CHATKIT_HISTORY_ITEMS"] == app_settings.CHATKIT_HISTORY_ITEMS
    assert app_settings.CHATKIT_MODEL == "local"
    page = await client.http.get("/")
    assert page.status_code == 200 and b'"apiUrl": "/chatkit"' in page.content
    assert (await client.json("threads.list"))["data"] == []


async def test_an_anonymous_visitors_threads_become_the_users_at_login(client, make_client):
    from django.contrib.auth import get_user_model

    user = await sync_to_async(get_user_model().objects.create_user)("ada", password="pw-for-tests", is_staff=True)
    thread_id, _ = await client.new_thread("before logging in")
    anon_owner = (await models.Thread.objects.aget(id=thread_id)).owner
    assert anon_owner.startswith("anon:")

    login = await client.http.post(
        "/admin/login/?next=/admin/",
        data={"username": "ada", "password": "pw-for-tests", "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    assert login.status_code == 302, login.text

    listing = await client.json("threads.list")
    assert [t["id"] for t in listing["data"]] == [thread_id]
    thread = await models.Thread.objects.aget(id=thread_id)
    assert (thread.owner, thread.user_id) == (f"user:{user.pk}", user.pk)
    assert await models.Item.objects.filter(thread_id=thread_id).exclude(owner=thread.owner).acount() == 0
    assert await models.Item.objects.owned_by(anon_owner).acount() == 0
    # a new turn in the adopted thread is the user's
    events = await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("after"))
    assert assistant_text(events) == "after"
    # and nobody else sees it
    assert (await make_client().request("threads.get_by_id", thread_id=thread_id)).status_code == 404
