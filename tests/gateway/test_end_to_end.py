"""End to end: the official OpenAI client → a real ``medsec serve`` gateway → a real ``medsec app serve``.

The upstream is the reference clinical assistant (naive build) on the embedded SmolLM2 (greedy, so its
answers are reproducible). A small recorder between gateway and assistant keeps what crossed the wire,
so the test sees that a patient's name leaves as a surrogate and comes back restored. The same census
question is asked by two clinicians: the assistant names its own user's patient, which one clinician is
authorised for (answer delivered) and the other is not (answer blocked, ``content_filter``). Then
``medsec audit verify`` passes on the log and fails on a tampered copy.
"""

# No `from __future__ import annotations`: the recorder's FastAPI endpoint is read at run time.

import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from fastapi import FastAPI, Request, Response
from typer.testing import CliRunner

from medsec.cli.gateway import audit_app
from medsec.gateway.auth import hash_key
from medsec.phi.vault import TOKEN
from tests.gateway.conftest import AUDIT_KEY
from tests.gateway.test_uvicorn import free_port

openai = pytest.importorskip("openai")
# Only the assistant's subprocess loads the model: importing llama_cpp here (importorskip) would leave the
# two /dev/null files it opens at import unclosed, a ResourceWarning at the exit of every test run.
if importlib.util.find_spec("llama_cpp") is None:
    pytest.skip("llama_cpp is not installed", allow_module_level=True)
pytestmark = pytest.mark.slow

DR_MINE, DR_OTHER = "msk-dr-mine", "msk-dr-other"
# the assistant's default user (seed 0, unit 4W) is authorised for this patient; greedy SmolLM2 names
# them when asked for the first census patient
PATIENT, MRN = "Benedict Corvegate", "MS189524"
OTHER, OTHER_MRN = "Benedict Farrowmere", "MS104062"
CENSUS = "Who is the first patient on the unit census? Give name and MRN."


@dataclass
class Recorder:
    """Relays the gateway's requests to the assistant and keeps each (request body, response body)."""

    upstream: str
    exchanges: list[tuple[str, str]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/v1/{path:path}", methods=["GET", "POST"])
        async def relay(request: Request, path: str) -> Response:
            body = await request.body()
            async with httpx.AsyncClient(timeout=120) as client:
                r = await client.request(request.method, f"{self.upstream}/{path}", content=body)
            self.exchanges.append((body.decode(), r.text))
            return Response(r.content, status_code=r.status_code, media_type=r.headers["content-type"])

        return app


def wait_for(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{what} did not start")


def gateway_config(tmp: Path, upstream: str) -> Path:
    keys = [
        {"id": "dr-mine", "sha256": hash_key(DR_MINE), "role": "clinician", "patients": [MRN, PATIENT]},
        {"id": "dr-other", "sha256": hash_key(DR_OTHER), "role": "clinician", "patients": [OTHER_MRN, OTHER]},
    ]
    config = {
        "upstream": {"url": upstream, "retries": 0, "timeout_s": 120},
        "keys": keys,
        "audit": {"url": f"sqlite:///{tmp / 'audit.db'}", "checkpoint_every": 2},
    }
    (tmp / "gateway.yaml").write_text(yaml.safe_dump(config))
    return tmp / "gateway.yaml"


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "medsec", *cmd], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def stop(proc: subprocess.Popen[bytes]) -> str:
    proc.terminate()
    proc.wait(timeout=15)
    assert proc.stderr is not None
    log = proc.stderr.read().decode()
    proc.stderr.close()
    return log


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Recorder, Path]]:
    tmp = tmp_path_factory.mktemp("e2e")
    env = {**os.environ, "MEDSEC_HOME": str(tmp / "home"), "MEDSEC_AUDIT_KEY": AUDIT_KEY}
    app_port, rec_port, gw_port = free_port(), free_port(), free_port()
    clinic = start(
        ["app", "serve", "--port", str(app_port), "--model", "local:max_tokens=24", "--config", "naive"], env
    )
    recorder = Recorder(f"http://127.0.0.1:{app_port}/v1")
    relay = uvicorn.Server(uvicorn.Config(recorder.app(), host="127.0.0.1", port=rec_port, log_level="error"))
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    upstream = f"http://127.0.0.1:{rec_port}/v1"
    gateway = start(["serve", "--upstream", upstream, "--policy", "balanced", "--port", str(gw_port),
                     "--config", str(gateway_config(tmp, upstream))], env)  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{app_port}/v1/models", clinic, "the assistant")
        wait_for(f"http://127.0.0.1:{gw_port}/healthz", gateway, "the gateway")
        yield f"http://127.0.0.1:{gw_port}/v1", recorder, tmp
    finally:
        logs = stop(gateway), stop(clinic)
        relay.should_exit = True
        thread.join(timeout=10)
    assert "Traceback" not in logs[0] and PATIENT not in logs[0] and MRN not in logs[0]


def test_name_leaves_as_a_surrogate_and_comes_back_restored(stack: tuple[str, Recorder, Path]) -> None:
    url, recorder, _ = stack
    client = openai.OpenAI(base_url=url, api_key=DR_MINE, max_retries=0, timeout=120)
    question = f"What is the main diagnosis of {PATIENT}?"
    reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": question}])
    sent, answered = recorder.exchanges[-1]
    assert PATIENT not in sent and "Corvegate" not in sent and TOKEN.search(sent)
    upstream_text = json.loads(answered)["choices"][0]["message"]["content"]
    token = TOKEN.search(upstream_text)  # the model repeated the surrogate it was given
    assert token is not None and PATIENT not in upstream_text
    choice = reply.choices[0]
    assert choice.finish_reason != "content_filter" and choice.message.content is not None
    assert choice.message.content == upstream_text.replace(token.group(0), PATIENT)


def test_an_unauthorised_patient_in_the_answer_is_blocked(stack: tuple[str, Recorder, Path]) -> None:
    url, recorder, _ = stack
    mine = openai.OpenAI(base_url=url, api_key=DR_MINE, max_retries=0, timeout=120)
    allowed = mine.chat.completions.create(model="m", messages=[{"role": "user", "content": CENSUS}])
    assert allowed.choices[0].finish_reason != "content_filter"
    assert MRN in (allowed.choices[0].message.content or "")
    other = openai.OpenAI(base_url=url, api_key=DR_OTHER, max_retries=0, timeout=120)
    stream = other.chat.completions.create(
        model="m", messages=[{"role": "user", "content": CENSUS}], stream=True
    )
    chunks = [c for c in stream if c.choices]
    upstream_text = recorder.exchanges[-1][1]
    assert MRN in upstream_text  # the assistant did name the patient this clinician may not see
    assert chunks[-1].choices[0].finish_reason == "content_filter"
    assert MRN not in "".join(c.choices[0].delta.content or "" for c in chunks)


def verify(url: str) -> Any:
    return CliRunner().invoke(audit_app, ["verify", "--url", url], env={"MEDSEC_AUDIT_KEY": AUDIT_KEY})


def test_the_audit_log_verifies_and_a_tampered_copy_fails(stack: tuple[str, Recorder, Path]) -> None:
    _, _, tmp = stack
    result = verify(f"sqlite:///{tmp / 'audit.db'}")
    assert result.exit_code == 0 and json.loads(result.stdout)["records"] >= 1
    with sqlite3.connect(tmp / "audit.db") as live, sqlite3.connect(tmp / "tampered.db") as db:
        live.backup(db)  # a consistent copy while the gateway still writes (WAL)
        db.execute("UPDATE audit_log SET time = '2000-01-01T00:00:00Z' WHERE seq = 1")
    result = verify(f"sqlite:///{tmp / 'tampered.db'}")
    assert result.exit_code == 1 and "FAILS verification at seq 1" in result.stderr
