"""The ``medsec`` command line: parse, call the library, render. Nothing else lives here.

One module per command group, added to :data:`app` below.

Tables are drawn with Rich in a terminal and printed as plain aligned text when piped. Errors that
medsec raises on purpose print as one line on stderr with exit status 2; no traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from medsec._version import __version__
from medsec.cli import app as app_cmd
from medsec.cli import deid, efficacy, guard, report, scan, taxonomy
from medsec.cli import gateway as gateway_cmd
from medsec.cli._common import stderr
from medsec.errors import MedsecError

app = typer.Typer(
    name="medsec",
    help="Security toolkit for LLMs in clinical settings: threat taxonomy, adversarial scans, guard.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"medsec {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Security toolkit for LLMs in clinical settings."""


app.add_typer(taxonomy.app, name="taxonomy")
app.command()(taxonomy.coverage)
app.command()(deid.deid)
app.command()(scan.scan)
app.command()(scan.probes)
app.command("evaluate-defenses")(efficacy.evaluate_defenses)
app.command()(report.report)
app.command()(report.runs)
app.command()(report.compare)
app.add_typer(app_cmd.app, name="app")
app.add_typer(guard.app, name="guard")
app.command()(gateway_cmd.serve)
app.add_typer(gateway_cmd.audit_app, name="audit")


def main() -> None:
    """Entry point of the ``medsec`` console script."""
    try:
        app(standalone_mode=True)
    except MedsecError as exc:
        stderr.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        raise SystemExit(2) from None
    finally:
        # Flush now: native back ends (llama.cpp) may tear the process down before Python's own final
        # flush of a block-buffered stdout, which loses a piped report.
        sys.stdout.flush()
        sys.stderr.flush()
