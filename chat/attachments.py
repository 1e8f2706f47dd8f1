"""Attachments: the ChatKit ``AttachmentStore``, the upload and download views, and their rules.

Both ChatKit upload strategies (docs/architecture.md, "Attachments"):

* **two-phase**: ``attachments.create`` (``name``, ``size``, ``mime_type``) is checked by
  :func:`check_declared` (the request check), then :class:`DjangoAttachmentStore`
  returns the attachment with an ``upload_descriptor`` naming
  ``/chatkit/attachments/<id>``; the bytes arrive there by ``PUT`` (raw body) or
  multipart ``POST`` (field ``file``). Afterwards the stored attachment has no descriptor.
* **direct**: a multipart ``POST /chatkit/attachments`` (field ``file``) stores the
  bytes and answers the attachment JSON.

Every upload is checked the same way (:func:`check_bytes`): at most
``CHATKIT_ATTACHMENT_MAX_BYTES``, a type sniffed from the bytes (``puremagic``)
that is one of ``CHATKIT_ATTACHMENT_TYPES`` and agrees with the declared type and
the name's extension, and (two-phase) exactly the declared size. A refused upload
answers a 4xx JSON error naming the limit and leaves no row and no bytes behind;
an attachment that already has its bytes refuses another upload (409).

Bytes live in Django's default storage (``STORAGES["default"]``), never under a
public URL: downloads (``GET /chatkit/attachments/<id>``) and image previews
(``…/<id>/preview``) go through owner-checked views that send the stored type,
``Content-Disposition`` and ``nosniff``. Another owner's attachment is 404 on
every path, exactly like a missing one.
"""

from __future__ import annotations

import fnmatch
import logging
import mimetypes
from contextvars import ContextVar
from dataclasses import dataclass

import puremagic
from asgiref.sync import sync_to_async
from chatkit.store import AttachmentStore, NotFoundError
from chatkit.types import (
    Attachment,
    AttachmentCreateParams,
    AttachmentUploadDescriptor,
    FileAttachment,
    ImageAttachment,
)
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.text import get_valid_filename

from . import models
from .conf import app_settings
from .context import RequestContext, request_context
from .store import ATTACHMENT_ADAPTER, delete_files, new_id

logger = logging.getLogger(__name__)

# The request being served, so the AttachmentStore (which the SDK hands only a
# context) can build absolute URLs (the SDK's types demand them) and the CSRF header.
CURRENT_REQUEST: ContextVar[HttpRequest | None] = ContextVar("chat_attachment_request", default=None)

# Types whose bytes are text the model can read inline, besides text/*.
TEXT_LIKE = {
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-yaml",
    "application/yaml",
    "application/toml",
    "application/x-sh",
    "application/sql",
    "application/x-python",
}
# Browsers and older tools name some types differently; compare under one name.
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": "application/pdf"}
# Declared types that say nothing about the content.
UNKNOWN_TYPES = {"", "application/octet-stream", "binary/octet-stream"}
# Extensions accepted by ChatKit's picker for the "text/*" pattern (its accept map wants extensions).
TEXT_EXTENSIONS = [
    ".txt",
    ".md",
    ".markdown",
    ".csv",
    ".tsv",
    ".log",
    ".py",
    ".js",
    ".ts",
    ".tsx",
    ".jsx",
    ".html",
    ".css",
    ".xml",
    ".yaml",
    ".yml",
    ".toml",
    ".ini",
    ".sh",
    ".sql",
    ".rst",
    ".java",
    ".c",
    ".h",
    ".cpp",
    ".go",
    ".rs",
    ".rb",
]
SNIFF_BYTES = 8192


class UploadRefused(Exception):
    """An upload or declaration that breaks a limit (answered as a 4xx JSON error).

    Attributes:
        status: the HTTP status (400, 404, 409, 413, 415).
        code: machine-readable, e.g. ``"file_too_large"``, ``"type_not_allowed"``,
            ``"type_mismatch"``, ``"size_mismatch"``, ``"already_uploaded"``.
        message: for a person; names the limit.
    """

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# --- the rules ------------------------------------------------------------------


def canonical(mime: str) -> str:
    """``"Image/JPG; x=1"`` -> ``"image/jpeg"``: lower case, no parameters, one name per type."""
    base = (mime or "").split(";", 1)[0].strip().lower()
    return ALIASES.get(base, base)


def is_text_like(mime: str) -> bool:
    """Whether a type's bytes are text the model can read inline (``text/*``, JSON, XML, YAML, …)."""
    mime = canonical(mime)
    return mime.startswith("text/") or mime in TEXT_LIKE or mime.endswith(("+json", "+xml"))


def type_allowed(mime: str) -> bool:
    """Whether ``mime`` matches one of ``CHATKIT_ATTACHMENT_TYPES`` (exact or ``major/*``)."""
    mime = canonical(mime)
    return any(fnmatch.fnmatchcase(mime, pattern.strip().lower()) for pattern in app_settings.CHATKIT_ATTACHMENT_TYPES)


def _too_large(size: int) -> UploadRefused:
    limit = app_settings.CHATKIT_ATTACHMENT_MAX_BYTES
    return UploadRefused(
        413, "file_too_large", f"The file is {size} bytes; the limit is {limit} bytes (CHATKIT_ATTACHMENT_MAX_BYTES)."
    )


def _not_allowed(mime: str) -> UploadRefused:
    allowed = ", ".join(app_settings.CHATKIT_ATTACHMENT_TYPES)
    return UploadRefused(
        415,
        "type_not_allowed",
        f"Files of type {mime or 'unknown'} are not accepted; allowed: {allowed} (CHATKIT_ATTACHMENT_TYPES).",
    )


def check_declared(name: str, size: int | None, mime_type: str) -> None:
    """Check an attachment's declared metadata before anything is stored.

    Used by the request check for ``attachments.create`` and by the direct
    upload. Raises :class:`UploadRefused` for an empty name, a size below 1 or
    over ``CHATKIT_ATTACHMENT_MAX_BYTES``, or a declared type (when there is
    one) not in ``CHATKIT_ATTACHMENT_TYPES``.
    """
    if not name.strip():
        raise UploadRefused(400, "invalid_name", "The file needs a name.")
    if size is not None and size < 1:
        raise UploadRefused(400, "empty_file", "The file is empty.")
    if size is not None and size > app_settings.CHATKIT_ATTACHMENT_MAX_BYTES:
        raise _too_large(size)
    if canonical(mime_type) not in UNKNOWN_TYPES and not type_allowed(mime_type):
        raise _not_allowed(canonical(mime_type))


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a character cut at the end of the sample
    return True


def sniff(data: bytes, name: str, declared: str) -> str:
    """The type of ``data`` judged from its bytes (``puremagic``), not from ``name`` or ``declared``.

    Binary formats are recognised by their signatures. Text has none, so bytes
    that are UTF-8 text get a text type: the declared one or the name's when
    that is text-like, else ``text/plain``. Anything else is
    ``application/octet-stream``.
    """
    magic = ""
    try:
        matches = puremagic.magic_string(data[:SNIFF_BYTES] + (data[-SNIFF_BYTES:] if len(data) > SNIFF_BYTES else b""))
        if matches:
            magic = canonical(max(matches, key=lambda m: m.confidence).mime_type)
    except (puremagic.PureError, ValueError):
        pass
    if magic and not is_text_like(magic):
        return magic
    if _looks_like_text(data[:SNIFF_BYTES]):
        for candidate in (declared, mimetypes.guess_type(name)[0] or "", magic):
            if candidate and is_text_like(candidate):
                return canonical(candidate)
        return "text/plain"
    return magic or "application/octet-stream"


def check_bytes(data: bytes, name: str, declared_type: str, declared_size: int | None) -> str:
    """Check uploaded bytes against the limits; return their sniffed type.

    Raises :class:`UploadRefused`: over ``CHATKIT_ATTACHMENT_MAX_BYTES`` (413),
    empty or not the declared size (400), a sniffed type not allowed (415), or
    one that disagrees with the declared type or the name's extension, e.g. a
    ``.png`` that is a script (415, ``type_mismatch``).
    """
    if len(data) > app_settings.CHATKIT_ATTACHMENT_MAX_BYTES:
        raise _too_large(len(data))
    if not data:
        raise UploadRefused(400, "empty_file", "The file is empty.")
    if declared_size is not None and len(data) != declared_size:
        raise UploadRefused(
            400, "size_mismatch", f"The upload has {len(data)} bytes, but {declared_size} were declared."
        )
    sniffed = sniff(data, name, declared_type)
    claims = [canonical(declared_type), canonical(mimetypes.guess_type(name)[0] or "")]
    for claim in claims:
        if claim in UNKNOWN_TYPES or claim == sniffed or (is_text_like(claim) and is_text_like(sniffed)):
            continue
        if claim is claims[1] and not (claim.startswith("image/") or claim == "application/pdf"):
            continue  # only extensions the model reads specially must tell the truth
        raise UploadRefused(
            415,
            "type_mismatch",
            f"The file's content is {sniffed}, not {claim} as its {'type' if claim is claims[0] else 'name'} says.",
        )
    if not type_allowed(sniffed):
        raise _not_allowed(sniffed)
    return sniffed


def accepts_images(model) -> bool:
    """Whether a model takes image input: ``model.accepts_images`` if set; not our local or echo models."""
    flag = getattr(model, "accepts_images", None)
    if flag is not None:
        return bool(flag)
    from .llm.echo import EchoModel
    from .llm.local import LocalModel  # llama.cpp itself loads only when a model runs

    return not isinstance(model, (EchoModel, LocalModel))


# --- URLs and the stored JSON ------------------------------------------------------------


def _absolute(path: str, request: HttpRequest | None) -> str:
    if request is None:
        raise RuntimeError("Attachment URLs need the current request (set chat.attachments.CURRENT_REQUEST).")
    return request.build_absolute_uri(path)


def download_url(attachment_id: str) -> str:
    return reverse("chat:attachment", args=[attachment_id])


def preview_url(attachment_id: str) -> str:
    return reverse("chat:attachment-preview", args=[attachment_id])


def build_attachment(
    attachment_id: str,
    name: str,
    mime_type: str,
    request: HttpRequest | None,
    *,
    size: int,
    upload: bool = False,
    thread_id: str | None = None,
) -> Attachment:
    """The SDK's attachment for our row: an ``ImageAttachment`` (with ``preview_url``) for images.

    ``upload`` adds the two-phase ``upload_descriptor`` (multipart ``POST`` to
    the attachment's URL, which also takes a raw ``PUT``; the CSRF token in its
    headers). ``metadata["size"]`` keeps the size (declared, then stored); the
    SDK never sends ``metadata`` to clients.
    """
    fields = {
        "id": attachment_id,
        "name": name,
        "mime_type": mime_type,
        "thread_id": thread_id,
        "metadata": {"size": size},
    }
    if upload:
        fields["upload_descriptor"] = AttachmentUploadDescriptor(
            url=_absolute(download_url(attachment_id), request),
            method="POST",
            headers={"X-CSRFToken": get_token(request)},
        )
    if canonical(mime_type).startswith("image/"):
        return ImageAttachment(preview_url=_absolute(preview_url(attachment_id), request), **fields)
    return FileAttachment(**fields)


def attachment_json(attachment: Attachment) -> bytes:
    """The attachment as clients see it (no ``metadata``)."""
    return ATTACHMENT_ADAPTER.dump_json(attachment, context={"exclude_metadata": True})


# --- the AttachmentStore ---------------------------------------------------------------------


def delete_attachment_bytes(attachment_id: str, context: RequestContext) -> None:
    """Delete an attachment's stored bytes, keeping its row for ``Store.delete_attachment``.

    ``attachments.delete`` calls the ``AttachmentStore`` first, then the
    ``Store``; each removes its own part. Raises ``NotFoundError`` when the
    attachment is missing or another owner's.
    """
    row = models.Attachment.objects.owned_by(context.owner).filter(id=attachment_id).only("file").first()
    if row is None:
        raise NotFoundError(f"Attachment {attachment_id} not found")
    if row.file.name:
        name = row.file.name
        models.Attachment.objects.filter(seq=row.seq).update(file="")
        delete_files([name])


class DjangoAttachmentStore(AttachmentStore[RequestContext]):
    """``chatkit.store.AttachmentStore`` over :class:`chat.models.Attachment` and the default storage.

    ``create_attachment`` (two-phase) returns the attachment with its upload
    descriptor; the SDK then saves it with ``Store.save_attachment``. The
    declared metadata was checked by the request check (:func:`check_declared`).
    ``delete_attachment`` removes the bytes (the ``Store`` removes the row).
    """

    def generate_attachment_id(self, mime_type: str, context: RequestContext) -> str:
        return new_id("attachment")

    async def create_attachment(self, input: AttachmentCreateParams, context: RequestContext) -> Attachment:
        request = CURRENT_REQUEST.get()
        attachment_id = self.generate_attachment_id(input.mime_type, context)
        return await sync_to_async(build_attachment)(
            attachment_id, input.name, canonical(input.mime_type), request, size=input.size, upload=True
        )

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        await sync_to_async(delete_attachment_bytes)(attachment_id, context)


# --- views -----------------------------------------------------------------------------------


def _error(refusal: UploadRefused) -> HttpResponse:
    from .views import error_response

    return error_response(refusal.status, refusal.code, refusal.message)


def _json(attachment: Attachment, status: int = 200) -> HttpResponse:
    return HttpResponse(attachment_json(attachment), content_type="application/json", status=status)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@dataclass(frozen=True, slots=True)
class _Upload:
    data: bytes
    name: str | None
    content_type: str | None


def _read_upload(request: HttpRequest) -> _Upload:
    """The uploaded bytes: the ``file`` field of a multipart ``POST``, or a ``PUT``'s raw body.

    Refuses (413) a body whose ``Content-Length`` is already over the limit
    (plus room for multipart framing) before reading it.
    """
    limit = app_settings.CHATKIT_ATTACHMENT_MAX_BYTES
    if _declared_length(request) > limit + 65_536:
        raise _too_large(_declared_length(request))
    if request.method == "PUT":
        data = request.read(limit + 1)
        return _Upload(data, None, request.content_type)
    if not request.content_type.startswith("multipart/form-data"):
        raise UploadRefused(
            400, "missing_file", 'Send the file as multipart/form-data (field "file"), or PUT its bytes.'
        )
    upload = request.FILES.get("file")
    if upload is None:
        raise UploadRefused(400, "missing_file", 'The form has no "file" field.')
    if upload.size > limit:
        raise _too_large(upload.size)
    return _Upload(upload.read(), upload.name, upload.content_type)


def _storage_name(attachment_id: str, name: str) -> str:
    return f"chat/attachments/{attachment_id}/{get_valid_filename(name)[:100] or 'file'}"


def _finish_upload(row: models.Attachment, upload: _Upload, request: HttpRequest) -> Attachment:
    """Check and store the bytes of a two-phase attachment; refusals delete the row (nothing left behind)."""
    declared_size = (row.data.get("metadata") or {}).get("size", row.size)
    try:
        mime = check_bytes(upload.data, row.name, row.mime_type, declared_size)
    except UploadRefused:
        models.Attachment.objects.filter(seq=row.seq, file="").delete()
        raise
    stored = default_storage.save(_storage_name(row.id, row.name), ContentFile(upload.data))
    attachment = build_attachment(row.id, row.name, mime, request, size=len(upload.data), thread_id=row.thread_id)
    data = ATTACHMENT_ADAPTER.dump_python(attachment, mode="json")
    # Claim the row only if it still has no bytes: two concurrent uploads can't both win.
    claimed = models.Attachment.objects.filter(seq=row.seq, file="").update(
        file=stored, size=len(upload.data), mime_type=mime, data=data
    )
    if not claimed:
        delete_files([stored])
        raise UploadRefused(409, "already_uploaded", "This attachment already has its file.")
    return attachment


def _create_direct(context: RequestContext, upload: _Upload, request: HttpRequest) -> Attachment:
    """Check, store and record a direct upload in one go; a refusal stores nothing."""
    name = (upload.name or "file").strip()[:255]
    declared = upload.content_type or ""
    check_declared(name, None, declared)
    mime = check_bytes(upload.data, name, declared, None)
    attachment_id = new_id("attachment")
    stored = default_storage.save(_storage_name(attachment_id, name), ContentFile(upload.data))
    attachment = build_attachment(attachment_id, name, mime, request, size=len(upload.data))
    try:
        with transaction.atomic():
            models.Attachment.objects.create(
                id=attachment_id,
                owner=context.owner,
                name=name,
                mime_type=mime,
                file=stored,
                size=len(upload.data),
                data=ATTACHMENT_ADAPTER.dump_python(attachment, mode="json"),
            )
    except Exception:
        delete_files([stored])
        raise
    return attachment


def upload_direct(request: HttpRequest) -> HttpResponse:
    """``POST /chatkit/attachments``: the direct strategy (multipart, field ``file``).

    Answers 201 with the attachment JSON (no upload descriptor), or a 4xx JSON
    error (:class:`UploadRefused`); 405 for other methods. CSRF applies.
    """
    if request.method != "POST":
        from .views import error_response

        return error_response(405, "method_not_allowed", "Use POST.", Allow="POST")
    context = request_context(request)
    try:
        return _json(_create_direct(context, _read_upload(request), request), status=201)
    except UploadRefused as refusal:
        return _error(refusal)


def attachment(request: HttpRequest, attachment_id: str) -> HttpResponse:
    """``/chatkit/attachments/<id>``: ``GET`` downloads, ``PUT``/``POST`` uploads (two-phase).

    The attachment must be the requester's (else 404, as if missing). An upload
    answers the stored attachment JSON; one to an attachment that has its bytes
    is 409. A download sends the stored type with ``Content-Disposition:
    attachment`` (404 until the bytes are there). CSRF applies to uploads.
    """
    if request.method in ("GET", "HEAD"):
        return _serve(request, attachment_id, inline=False)
    if request.method not in ("PUT", "POST"):
        from .views import error_response

        return error_response(405, "method_not_allowed", "Use GET, PUT or POST.", Allow="GET, PUT, POST")
    context = request_context(request)
    row = models.Attachment.objects.owned_by(context.owner).filter(id=attachment_id).first()
    try:
        if row is None:
            raise UploadRefused(404, "not_found", f"Attachment {attachment_id} not found")
        if row.file:
            raise UploadRefused(409, "already_uploaded", "This attachment already has its file.")
        return _json(_finish_upload(row, _read_upload(request), request))
    except UploadRefused as refusal:
        return _error(refusal)


def preview(request: HttpRequest, attachment_id: str) -> HttpResponse:
    """``GET /chatkit/attachments/<id>/preview``: an image attachment shown inline (404 for other types)."""
    return _serve(request, attachment_id, inline=True)


def _serve(request: HttpRequest, attachment_id: str, *, inline: bool) -> HttpResponse:
    context = request_context(request)
    row = models.Attachment.objects.owned_by(context.owner).filter(id=attachment_id).first()
    if row is None or not row.file or (inline and not canonical(row.mime_type).startswith("image/")):
        from .views import error_response

        return error_response(404, "not_found", f"Attachment {attachment_id} not found")
    return file_response(row, inline=inline)


def file_response(row: models.Attachment, *, inline: bool) -> StreamingHttpResponse:
    """Stream a stored file with its stored type, ``Content-Disposition`` and headers that stop
    the browser from running it (``nosniff``, a sandboxing CSP). Used by the admin too."""
    handle = row.file.storage.open(row.file.name, "rb")

    async def chunks():
        try:
            while chunk := await sync_to_async(handle.read)(65_536):
                yield chunk
        finally:
            await sync_to_async(handle.close)()

    mime = canonical(row.mime_type) or "application/octet-stream"
    response = StreamingHttpResponse(chunks(), content_type=f"{mime}; charset=utf-8" if is_text_like(mime) else mime)
    response["Content-Disposition"] = content_disposition_header(not inline, row.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    if row.size is not None:
        response["Content-Length"] = str(row.size)
    return response


# --- the page's options ------------------------------------------------------------------


def page_options() -> dict:
    """What both UIs need: ``{"strategy", "uploadUrl", "maxBytes", "maxCount", "types", "accept"}``.

    ``accept`` is ChatKit's ``composer.attachments.accept`` map (type pattern ->
    extensions), built from ``CHATKIT_ATTACHMENT_TYPES``.
    """
    accept: dict[str, list[str]] = {}
    for pattern in app_settings.CHATKIT_ATTACHMENT_TYPES:
        pattern = pattern.strip().lower()
        if pattern == "text/*":
            accept[pattern] = TEXT_EXTENSIONS
        else:
            accept[pattern] = sorted(set(mimetypes.guess_all_extensions(pattern))) if "*" not in pattern else []
    return {
        "strategy": app_settings.CHATKIT_UPLOAD_STRATEGY,
        "uploadUrl": reverse("chat:attachments"),
        "maxBytes": app_settings.CHATKIT_ATTACHMENT_MAX_BYTES,
        "maxCount": app_settings.CHATKIT_ATTACHMENTS_PER_MESSAGE,
        "types": list(app_settings.CHATKIT_ATTACHMENT_TYPES),
        "accept": accept,
    }


def purge_unattached(older_than_hours: float, *, dry_run: bool = False) -> list[tuple[str, str]]:
    """Delete uploads that never joined a message (no thread) created over ``older_than_hours`` ago.

    Returns ``[(id, name)]`` of what was (or, with ``dry_run``, would be) deleted;
    rows go in one transaction, their bytes after it commits.
    """
    from datetime import timedelta

    from django.utils import timezone

    cutoff = timezone.now() - timedelta(hours=older_than_hours)
    stale = models.Attachment.objects.filter(thread__isnull=True, created_at__lt=cutoff).order_by("seq")
    if dry_run:
        return list(stale.values_list("id", "name"))
    with transaction.atomic():
        # Read and delete under one lock, so a file that joins a message meanwhile keeps its bytes.
        found = list(stale.select_for_update().values_list("seq", "id", "name", "file"))
        models.Attachment.objects.filter(seq__in=[row[0] for row in found]).delete()
        files = [row[3] for row in found if row[3]]
        transaction.on_commit(lambda: delete_files(files))
    return [(row[1], row[2]) for row in found]


# --- what the model reads ---------------------------------------------------------------------


def _cut(text: str, name: str) -> str:
    limit = app_settings.CHATKIT_ATTACHMENT_TEXT_CHARS
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… {name} is cut here; the rest is not shown]"


def pdf_text(handle) -> str:
    """The text of a PDF's pages (``pypdf``), stopping once past ``CHATKIT_ATTACHMENT_TEXT_CHARS``."""
    from pypdf import PdfReader

    limit, parts, total = app_settings.CHATKIT_ATTACHMENT_TEXT_CHARS, [], 0
    for page in PdfReader(handle).pages:
        text = page.extract_text() or ""
        parts.append(text)
        total += len(text)
        if total > limit:
            break
    return "\n\n".join(parts).strip()


def attachment_content(attachment: Attachment, *, images: bool = True) -> dict:
    """One attachment as a model input content part (an OpenAI Responses ``input_*`` dict).

    * an image: ``input_image`` with a ``data:`` URL when ``images`` (the model
      reads images), else a text part naming it;
    * a text-like file: its text, up to ``CHATKIT_ATTACHMENT_TEXT_CHARS``,
      between markers naming the file;
    * a PDF: its text through ``pypdf``, marked the same way;
    * anything else, or bytes that are gone: a text part with its name and type.

    Sync (it reads storage). The row is found by id within the attachment's
    thread: the converter runs after the turn's owner check on that thread.
    """
    name, mime = attachment.name, canonical(attachment.mime_type)
    label = f"{name} ({mime})"
    row = (
        models.Attachment.objects.filter(id=attachment.id, thread_id=attachment.thread_id)
        .only("file", "mime_type", "size")
        .first()
    )
    if row is None or not row.file:
        return {"type": "input_text", "text": f"[Attached file {label}: no longer available]"}
    if mime.startswith("image/"):
        if not images:
            return {
                "type": "input_text",
                "text": f"[The user attached an image, {label}. This model cannot see images: "
                "if the question is about it, say that you can't see it and refer to it by its name.]",
            }
        import base64

        with row.file.storage.open(row.file.name, "rb") as handle:
            data = base64.b64encode(handle.read()).decode("ascii")
        return {"type": "input_image", "image_url": f"data:{mime};base64,{data}", "detail": "auto"}
    try:
        if is_text_like(mime):
            with row.file.storage.open(row.file.name, "rb") as handle:
                text = handle.read(app_settings.CHATKIT_ATTACHMENT_TEXT_CHARS * 4 + 4).decode("utf-8", errors="replace")
        elif mime == "application/pdf":
            with row.file.storage.open(row.file.name, "rb") as handle:
                text = pdf_text(handle)
        else:
            return {
                "type": "input_text",
                "text": f"[Attached file {label}, {row.size or 0} bytes: its content can't be read here]",
            }
    except Exception:  # a damaged PDF, a storage hiccup: the turn goes on without the text
        logger.warning("Could not read attachment %s", attachment.id, exc_info=True)
        return {"type": "input_text", "text": f"[Attached file {label}: its content could not be read]"}
    return {
        "type": "input_text",
        "text": f"[Content of the attached file {label}]\n{_cut(text, name)}\n[End of {name}]",
    }
