from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from medsec.cli.deid import deid

app = typer.Typer()
app.command()(deid)
runner = CliRunner()


def test_plain_text() -> None:
    result = runner.invoke(app, ["-"], input="Pt John Smith seen 04/17/2024.\n")
    assert result.exit_code == 0
    assert result.output == "Pt [NAME] seen [DATE].\n"


def test_jsonl_contract() -> None:
    text = "Mary Jones on 2024-11-21"
    result = runner.invoke(app, ["--format", "jsonl"], input=json.dumps({"id": "a", "text": text}) + "\n\n")
    assert result.exit_code == 0
    out = json.loads(result.output)
    assert out["id"] == "a" and out["text"] == "[NAME] on [DATE]"
    assert [text[s["start"] : s["end"]] for s in out["spans"]] == ["Mary Jones", "2024-11-21"]
    assert set(out["spans"][0]) == {"start", "end", "type"}


def test_malformed_jsonl_names_line_not_text() -> None:
    lines = json.dumps({"id": 1, "text": "ok"}) + "\n{secret John Smith\n"
    result = runner.invoke(app, ["--format", "jsonl"], input=lines)
    assert result.exit_code != 0
    assert "line 2" in str(result.exception) and "John" not in str(result.exception)


def test_missing_file(tmp_path: object) -> None:
    result = runner.invoke(app, ["/nonexistent/notes.txt"])
    assert result.exit_code != 0 and "no such file" in str(result.exception)


def test_mode_surrogate(tmp_path: object) -> None:
    result = runner.invoke(app, ["--mode", "surrogate"], input="DOB 04/17/1951, 95 yo.\n")
    assert result.exit_code == 0 and "90+" in result.output and "04/17/1951" not in result.output
