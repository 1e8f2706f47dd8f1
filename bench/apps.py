"""The applications under test, each built around the same ``chat.server.ChatServer``.

* :data:`django_application` - ``chatproject.asgi:application`` (ours), served
  by daphne or uvicorn as subprocesses.
* :func:`fastapi_app` / ``bench.apps:fastapi_application`` - the reference
  architecture of ChatKit's samples: FastAPI + ``StreamingResponse`` around
  ``server.process(body, context)``, with an in-memory or an aiosqlite store
  (``BENCH_STORE=memory|sqlite``, ``BENCH_SQLITE_PATH``).
* ``BENCH_STOCK=1`` calls the stock ``ChatKitServer.process`` (a
  ``TypeAdapter(ChatKitReq)`` built per request, as openai-chatkit 1.6.5
  ships) instead of ``ChatServer.process`` (one adapter per process).

All answer with the echo model (``CHATKIT_MODEL=echo``). While ``chat.llm``
has no ``get_model`` yet (the model engineer is adding it), the server gets
an ``EchoModel`` directly; either way the agent is built by
``chat.agents.build_agent`` and the delay comes from ``CHATKIT_ECHO_DELAY``.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")
os.environ.setdefault("CHATKIT_MODEL", "echo")

import django  # noqa: E402

django.setup()

from chatkit.server import ChatKitServer, StreamingResult  # noqa: E402

from chat.context import RequestContext  # noqa: E402
from chat.server import ChatServer  # noqa: E402


def has_model_registry() -> bool:
    try:
        from chat.llm import get_model  # noqa: F401
    except ImportError:
        return False
    return True


def build_server(store=None) -> ChatServer:
    """A ``ChatServer`` answering with the echo model (``store=None``: the DjangoStore)."""
    if has_model_registry():
        return ChatServer(store)  # agent_for(settings.CHATKIT_MODEL), as the product runs
    from chat.llm.echo import EchoModel

    return ChatServer(store, model=EchoModel())


def process_fn(server: ChatServer, stock: bool):
    """``server.process`` (adapter built once) or the SDK's stock one (built per request)."""
    if stock:
        return lambda body, ctx: ChatKitServer.process(server, body, ctx)
    return server.process


def make_store(kind: str, path: str | None = None):
    from bench.stores import AioSqliteStore, MemoryStore

    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return AioSqliteStore(path or os.environ["BENCH_SQLITE_PATH"])
    raise ValueError(kind)


def fastapi_app(store_kind: str, stock: bool, sqlite_path: str | None = None):
    """The ChatKit samples' server shape, on FastAPI."""
    from fastapi import FastAPI, Request
    from fastapi.responses import Response, StreamingResponse

    server = build_server(make_store(store_kind, sqlite_path))
    process = process_fn(server, stock)
    app = FastAPI()

    @app.post("/chatkit")
    async def chatkit_endpoint(request: Request):
        owner = request.cookies.get("sessionid") or "anon"
        result = await process(await request.body(), RequestContext(owner=f"anon:{owner}"))
        if isinstance(result, StreamingResult):
            return StreamingResponse(result, media_type="text/event-stream")
        return Response(content=result.json, media_type="application/json")

    return app


def _django_application():
    from chatproject.asgi import application

    if not has_model_registry():
        from chat import server as server_module

        server_module._server = build_server()
    return application


if os.environ.get("BENCH_APP") == "fastapi":
    fastapi_application = fastapi_app(os.environ.get("BENCH_STORE", "memory"), os.environ.get("BENCH_STOCK") == "1")
else:
    django_application = _django_application()
