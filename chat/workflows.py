"""A multi-step tool's progress as a ChatKit workflow: one task per step, updated as each finishes.

ChatKit shows a ``workflow`` item as a collapsible list of tasks. The SDK's
``AgentContext`` streams it (``add_workflow_task`` sends ``thread.item.added``
for the first task and ``workflow.task.added`` for the next ones;
``update_workflow_task`` sends ``workflow.task.updated``; ``end_workflow``
sends ``thread.item.done``, which the SDK saves). :class:`Steps` wraps that::

    steps = Steps(ctx.context)
    for name in names:
        step = await steps.start(name)           # a task with a spinner
        ...
        await steps.finish(step, "the result")   # the task is complete
    await steps.end("Checked 3 things")
"""

from __future__ import annotations

from chatkit.agents import AgentContext
from chatkit.types import CustomSummary, CustomTask


class Steps:
    """The workflow of one tool call (see the module's docstring).

    Args:
        context: the tool's ``ctx.context`` (the ChatKit ``AgentContext``).
    """

    def __init__(self, context: AgentContext):
        self.context = context
        self.tasks: list[CustomTask] = []

    async def start(self, title: str, icon: str | None = None) -> int:
        """Show a new step as loading; returns its index for :meth:`finish`."""
        task = CustomTask(title=title, icon=icon, status_indicator="loading")
        self.tasks.append(task)
        await self.context.add_workflow_task(task)
        return len(self.tasks) - 1

    async def finish(self, index: int, content: str | None = None) -> None:
        """Mark step ``index`` complete, with ``content`` under its title."""
        task = self.tasks[index].model_copy(update={"status_indicator": "complete", "content": content})
        self.tasks[index] = task
        await self.context.update_workflow_task(task, index)

    async def end(self, summary: str, icon: str | None = "check-circle") -> None:
        """Close the workflow with a one-line summary (collapsed, as ChatKit shows finished work)."""
        await self.context.end_workflow(summary=CustomSummary(title=summary, icon=icon))
