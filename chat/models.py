"""Tables behind the ChatKit ``Store``.

Each row keeps the JSON of the SDK's pydantic model in ``data`` (so a new SDK
field never breaks a stored row) beside a few indexed columns that queries
and the admin need. The auto-increment primary key ``seq`` is the order of
insertion: items of one turn often share a timestamp, and
``threads.add_client_tool_output`` reads "the newest item", so ordering by
time alone is not exact (see docs/architecture.md, "Rules").

Every row carries its ``owner``: ``"user:<pk>"`` for a logged-in user or
``"anon:<token>"`` for an anonymous visitor's session (see
:mod:`chat.context`). The store filters every query by it.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class OwnedQuerySet(models.QuerySet):
    """A queryset that can be narrowed to one owner's rows (docs/architecture.md, "Owner scoping").

    Every query the store, the request check, the tools and feedback make goes
    through :meth:`owned_by`, so "another owner's row" and "no such row" are the
    same empty result.
    """

    def owned_by(self, owner: str) -> "OwnedQuerySet":
        """The rows of ``owner`` (``"user:<pk>"`` or ``"anon:<token>"``)."""
        return self.filter(owner=owner)


class ThreadStatus(models.TextChoices):
    """Mirrors ``chatkit.types.ThreadStatus`` (its ``type`` field)."""

    ACTIVE = "active"
    LOCKED = "locked"
    CLOSED = "closed"


class Thread(models.Model):
    """A conversation: ``chatkit.types.ThreadMetadata`` stored without its items."""

    objects = OwnedQuerySet.as_manager()

    seq = models.BigAutoField(primary_key=True)
    id = models.CharField("thread id", max_length=64, unique=True)
    owner = models.CharField(max_length=80, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="chat_threads",
        help_text="The logged-in owner; empty for an anonymous visitor.",
    )
    title = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=16, choices=ThreadStatus.choices, default=ThreadStatus.ACTIVE, db_index=True)
    created_at = models.DateTimeField(db_index=True)
    # Last activity: the store sets it on every save and every new item (not auto_now, so an
    # imported thread keeps its own).
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    data = models.JSONField(help_text="The ThreadMetadata JSON, as the SDK dumps it.")
    # The turn running in this thread, if any (chat.turns): one at a time, across processes.
    turn_id = models.CharField(
        max_length=32, null=True, blank=True, help_text="The running turn's claim; empty when idle."
    )
    turn_heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When the running turn last showed it is alive."
    )

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["owner", "seq"], name="chat_thread_owner_seq"),
            models.Index(fields=["owner", "updated_at", "seq"], name="chat_thread_owner_activity"),
        ]

    def __str__(self) -> str:
        return self.title or self.id


class ItemType(models.TextChoices):
    """The ``type`` discriminator of ``chatkit.types.ThreadItem``."""

    USER_MESSAGE = "user_message"
    ASSISTANT_MESSAGE = "assistant_message"
    CLIENT_TOOL_CALL = "client_tool_call"
    WIDGET = "widget"
    GENERATED_IMAGE = "generated_image"
    STRUCTURED_INPUT = "structured_input"
    WORKFLOW = "workflow"
    TASK = "task"
    HIDDEN_CONTEXT = "hidden_context_item"
    SDK_HIDDEN_CONTEXT = "sdk_hidden_context"
    END_OF_TURN = "end_of_turn"


class Item(models.Model):
    """One ``chatkit.types.ThreadItem`` of a thread, ordered by ``seq``."""

    objects = OwnedQuerySet.as_manager()

    seq = models.BigAutoField(primary_key=True)
    id = models.CharField("item id", max_length=64)
    thread = models.ForeignKey(
        Thread,
        to_field="id",
        db_column="thread_id",
        on_delete=models.CASCADE,
        related_name="items",
    )
    owner = models.CharField(max_length=80)
    type = models.CharField(max_length=32, choices=ItemType.choices, db_index=True)
    created_at = models.DateTimeField()
    text = models.TextField(blank=True, default="", help_text="Plain text of the item, for search in the admin.")
    data = models.JSONField(help_text="The ThreadItem JSON, as the SDK dumps it.")

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["thread", "id"], name="chat_item_unique_per_thread")]
        indexes = [models.Index(fields=["thread", "seq"], name="chat_item_thread_seq")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.id}"


class Attachment(models.Model):
    """A ``chatkit.types.Attachment`` (its metadata) and, once uploaded, its bytes."""

    objects = OwnedQuerySet.as_manager()

    seq = models.BigAutoField(primary_key=True)
    id = models.CharField("attachment id", max_length=64, unique=True)
    owner = models.CharField(max_length=80, db_index=True)
    thread = models.ForeignKey(
        Thread,
        to_field="id",
        db_column="thread_id",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    name = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=255)
    file = models.FileField(upload_to="chat/attachments/%Y/%m/", blank=True)
    size = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Bytes: the declared size until the upload, then the stored size."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    data = models.JSONField(help_text="The Attachment JSON, as the SDK dumps it.")

    def __str__(self) -> str:
        return self.name


class FeedbackKind(models.TextChoices):
    """Mirrors ``chatkit.types.FeedbackKind``."""

    POSITIVE = "positive"
    NEGATIVE = "negative"


class Feedback(models.Model):
    """A thumbs up or down on one item (``items.feedback``); the latest one wins."""

    objects = OwnedQuerySet.as_manager()

    thread = models.ForeignKey(
        Thread,
        to_field="id",
        db_column="thread_id",
        on_delete=models.CASCADE,
        related_name="feedback",
    )
    item_id = models.CharField(max_length=64)
    owner = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=FeedbackKind.choices)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "feedback"
        constraints = [models.UniqueConstraint(fields=["thread", "item_id"], name="chat_feedback_unique_item")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.item_id}"


class ServerToolCall(models.Model):
    r"""A tool the server's Agent ran during a turn: its arguments and result.

    The SDK stores no item for a server-side tool call (only client tool calls
    are ``ThreadItem``\ s), so they live in this side table, recorded by
    ``chat.server.ChatServer.respond`` through the run's hooks
    (:mod:`chat.toolcalls`). Kept out of the items on purpose: the model's history
    and both UIs read items, and a tool's raw result is not theirs to see. The
    transcript places each call among the items by time.
    """

    objects = OwnedQuerySet.as_manager()

    seq = models.BigAutoField(primary_key=True)
    thread = models.ForeignKey(
        Thread,
        to_field="id",
        db_column="thread_id",
        on_delete=models.CASCADE,
        related_name="tool_calls",
    )
    owner = models.CharField(max_length=80)
    call_id = models.CharField(max_length=128, blank=True, default="")
    name = models.CharField(max_length=128)
    arguments = models.TextField(blank=True, default="", help_text="The arguments as the model sent them (JSON text).")
    output = models.TextField(blank=True, default="", help_text="The tool's result as text.")
    created_at = models.DateTimeField(help_text="When the tool started.")
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="When it returned; empty if the turn ended first."
    )

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["thread", "created_at"], name="chat_toolcall_thread_time")]

    def __str__(self) -> str:
        return f"{self.name}({self.arguments[:40]})"


class ModerationEvent(models.Model):
    """One change of a thread's status by a moderator: who, when, from what to what, and why."""

    thread = models.ForeignKey(
        Thread,
        to_field="id",
        db_column="thread_id",
        on_delete=models.CASCADE,
        related_name="moderation_events",
    )
    status_from = models.CharField(max_length=16, choices=ThreadStatus.choices)
    status_to = models.CharField(max_length=16, choices=ThreadStatus.choices)
    reason = models.TextField(blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(
        max_length=150, help_text="Who made the change, kept when the user is gone (or a command's name)."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.status_from} → {self.status_to} by {self.actor_name}"


class WidgetTemplate(models.Model):
    """A widget the agent can show: a ChatKit Studio ``.widget`` definition managed in the admin.

    Every enabled template is a tool ``widget_<slug>`` for the agent on its
    next turn (:mod:`chat.widgets.tools`). ``version`` grows on every change
    of the definition, description or sample; each one is kept in
    :class:`WidgetTemplateVersion` so the admin can roll back.
    """

    slug = models.SlugField(
        max_length=48,
        unique=True,
        help_text="The tool is named widget_ followed by this slug; letters, digits, underscores and hyphens.",
    )
    title = models.CharField(max_length=120)
    description = models.TextField(
        help_text="What the widget is for: the tool's description, read by the model to decide when to call it."
    )
    definition = models.JSONField(
        help_text="The .widget file as ChatKit Studio exports it: version, name, template (Jinja), jsonSchema."
    )
    sample_data = models.JSONField(
        default=dict, blank=True, help_text="Data the preview is built from; must match the schema."
    )
    enabled = models.BooleanField(default=False, help_text="Offered to the agent as a tool.")
    needs_approval = models.BooleanField(
        default=False, help_text="The user approves each call before the widget is shown."
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title or self.slug

    @property
    def tool_name(self) -> str:
        """``widget_<slug>`` with hyphens as underscores (tool names allow ``[A-Za-z0-9_-]``)."""
        return self.tool_name_of(self.slug)

    @staticmethod
    def tool_name_of(slug: str) -> str:
        """The agent's tool name for the template ``slug`` (:attr:`tool_name`)."""
        return "widget_" + slug.replace("-", "_")


class WidgetTemplateVersion(models.Model):
    """One saved state of a :class:`WidgetTemplate` (the newest one equals the template)."""

    template = models.ForeignKey(WidgetTemplate, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=120)
    description = models.TextField()
    definition = models.JSONField()
    sample_data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(
        max_length=150, blank=True, default="", help_text="Who saved it (admin user or command)."
    )

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["template", "version"], name="chat_widget_version_unique")]

    def __str__(self) -> str:
        return f"{self.template.slug} v{self.version}"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class ToolApproval(models.Model):
    """A run paused for a person's approval of its tool calls (docs/architecture.md, "Approvals").

    ``state`` is the Agents SDK's ``RunState.to_json()``: the run resumes
    from it in any process, after any restart. The status moves once, from
    pending to approved or denied (a conditional update, so a second click or
    a second process can't decide it again).
    """

    objects = OwnedQuerySet.as_manager()

    id = models.CharField(max_length=64, primary_key=True)
    thread = models.ForeignKey(
        Thread, to_field="id", db_column="thread_id", on_delete=models.CASCADE, related_name="approvals"
    )
    owner = models.CharField(max_length=80, db_index=True)
    item_id = models.CharField(max_length=64, help_text="The approval card (a widget item) in the thread.")
    calls = models.JSONField(help_text='The paused tool calls: [{"call_id", "name", "arguments"}].')
    state = models.JSONField(help_text="The paused run: the Agents SDK's RunState JSON.")
    model = models.CharField(max_length=200, blank=True, default="", help_text="The model spec of the paused turn.")
    status = models.CharField(max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True, default="", help_text="The owner who decided.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        names = ", ".join(call.get("name", "?") for call in self.calls or [])
        return f"{names} ({self.status})"
