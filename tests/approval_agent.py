"""A ``CHATKIT_AGENT`` whose one tool needs approval, for the approval tests in and across server processes."""

from __future__ import annotations

import json
import os

from agents import Agent, function_tool

SENT: list[tuple[str, str]] = []
"""What ``send_email`` sent in this process; with ``CHATKIT_TEST_OUTBOX`` set it also appends to that file."""


@function_tool(needs_approval=True)
async def send_email(to: str, subject: str) -> str:
    """Send an email in the user's name.

    Args:
        to: the address.
        subject: the subject line.
    """
    SENT.append((to, subject))
    outbox = os.environ.get("CHATKIT_TEST_OUTBOX")
    if outbox:
        with open(outbox, "a") as file:
            file.write(json.dumps({"to": to, "subject": subject, "pid": os.getpid()}) + "\n")
    return f"Sent to {to}."


def approval_agent(model) -> Agent:
    return Agent(name="Assistant", instructions="Help.", model=model, tools=[send_email])
