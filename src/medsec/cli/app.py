"""``medsec app serve`` and ``medsec app chat``: the reference clinical assistant, to attack or to try."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from medsec.cli._common import stderr, stdout
from medsec.errors import MissingExtraError

app = typer.Typer(help="The reference clinical assistant: serve it or chat with it.", no_args_is_help=True)

MODEL = typer.Option(
    help="Model behind the app: 'local' (embedded SmolLM2) or a target spec such as "
    "'openai:base_url=http://127.0.0.1:8000/v1,model=m'."
)
CONFIG = typer.Option("--config", help="naive (typical unprotected build) or hardened.")


def _target(model: str, config: str, role: str, seed: int) -> object:
    from medsec.clinic.target import ClinicTarget

    if config not in ("naive", "hardened"):
        raise typer.BadParameter("--config must be naive or hardened")
    if model.startswith("openai:") and "base_url=" not in model and "://" in model:
        model = f"openai:base_url={model.removeprefix('openai:')}"
    return ClinicTarget(mode=config, model=model, role=role, seed=seed)  # type: ignore[arg-type]


@app.command()
def serve(
    model: Annotated[str, MODEL] = "local",
    config: Annotated[str, CONFIG] = "naive",
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    role: Annotated[str, typer.Option(help="Default requester role when a request names none.")] = "nurse",
    seed: Annotated[int, typer.Option(help="Seed of the synthetic EHR.")] = 0,
) -> None:
    """Serve the assistant as an OpenAI-compatible API (/v1/chat/completions, /v1/models)."""
    from medsec.clinic.serve import create_app

    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError("gateway", "uvicorn") from None
    target = _target(model, config, role, seed)
    api = create_app(target.app())  # type: ignore[attr-defined]
    stderr.print(
        f"serving the {config} assistant on http://{host}:{port}/v1 (Ctrl-C to stop)", highlight=False
    )
    uvicorn.run(api, host=host, port=port, log_level="warning")


@app.command()
def chat(
    model: Annotated[str, MODEL] = "local",
    config: Annotated[str, CONFIG] = "naive",
    role: Annotated[str, typer.Option(help="The requester's role.")] = "nurse",
    seed: Annotated[int, typer.Option(help="Seed of the synthetic EHR.")] = 0,
    trace: Annotated[
        bool, typer.Option(help="Show retrieved passages and tool calls after each answer.")
    ] = False,
) -> None:
    """Chat with the assistant in the terminal (an empty line or Ctrl-D ends)."""
    from medsec.targets.base import ChatSession

    target = _target(model, config, role, seed)
    session = ChatSession(target, "chat")  # type: ignore[arg-type]
    while True:
        try:
            text = input("you> ").strip()
        except EOFError:
            break
        if not text:
            break
        reply = asyncio.run(session.send(text))
        stdout.print(f"assistant> {reply.text}", highlight=False, markup=False)
        if trace:
            tools = ", ".join(f"{t.call.name}({'ok' if t.allowed else 'denied'})" for t in reply.trace.tools)
            stdout.print(
                f"  retrieved: {', '.join(reply.trace.retrieved) or '-'}; tools: {tools or '-'}",
                highlight=False,
                markup=False,
            )
