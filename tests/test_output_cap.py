"""Output caps: every model gets ``max_tokens``; an answer that hits it ends with a visible marker."""

from __future__ import annotations

import pytest
from agents import Agent, ModelSettings

from chat import models
from chat.cutoff import MARKER, capped, output_cap
from tests.helpers import assistant_text

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_answer_over_the_cap_is_cut_off_with_a_marker(client, settings):
    settings.CHATKIT_MAX_OUTPUT_TOKENS = 5
    thread_id, events = await client.new_thread(" ".join(f"w{i}" for i in range(50)))
    marker = MARKER.format(limit=5)
    assert assistant_text(events) == "w0 w1 w2 w3 w4" + marker
    assert not any(e["type"] == "error" for e in events), events
    # The marker streams as the answer's last delta, like the words before it.
    deltas = [e["update"]["delta"] for e in events if e["type"] == "thread.item.updated" and "delta" in e["update"]]
    assert "".join(deltas) == "w0 w1 w2 w3 w4" + marker and deltas[-1] == marker
    # And it is saved with the message, so a reload shows it too.
    stored = await models.Item.objects.filter(thread_id=thread_id, type="assistant_message").aget()
    assert stored.data["content"][0]["text"].endswith(marker)


async def test_an_answer_under_the_cap_has_no_marker(client, settings):
    settings.CHATKIT_MAX_OUTPUT_TOKENS = 5
    _, events = await client.new_thread("just four words here")
    assert assistant_text(events) == "just four words here"


def test_every_agent_gets_the_cap_and_its_own_lower_cap_wins(settings):
    settings.CHATKIT_MAX_OUTPUT_TOKENS = 100
    plain = Agent(name="a")
    assert capped(plain).model_settings.max_tokens == 100 and plain.model_settings.max_tokens is None
    frugal = Agent(name="b", model_settings=ModelSettings(max_tokens=10, temperature=0.2))
    assert output_cap(frugal) == 10 and capped(frugal).model_settings.temperature == 0.2
    both = capped(plain, name="renamed")  # other changes and the cap in one clone
    assert (both.name, both.model_settings.max_tokens) == ("renamed", 100)
    assert (plain.name, plain.model_settings.max_tokens) == ("a", None)
    from chat.llm.echo import EchoModel

    model = EchoModel()
    model.max_tokens = 50  # a model with its own default cap, like the embedded one
    assert output_cap(Agent(name="c", model=model)) == 50
    settings.CHATKIT_MAX_OUTPUT_TOKENS = 0
    assert output_cap(plain) is None and capped(plain) is plain


async def test_a_chat_completions_answer_that_used_the_whole_cap_is_marked(client, settings, use_model):
    """Chat Completions servers (and the embedded model) report ``output_tokens`` == the cap."""
    from agents import Usage
    from agents.testing import ModelStep, ScriptedModel, assistant_message

    from chat.store import new_id

    settings.CHATKIT_MAX_OUTPUT_TOKENS = 3
    model = ScriptedModel()
    model.enqueue(
        ModelStep(
            output=[assistant_message("one two three", item_id=new_id("message"))],
            usage=Usage(requests=1, output_tokens=3),
        )
    )
    use_model(model)
    _, events = await client.new_thread("count")
    assert assistant_text(events) == "one two three" + MARKER.format(limit=3)
