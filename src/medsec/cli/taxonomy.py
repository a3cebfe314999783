"""``medsec taxonomy`` and ``medsec coverage``: browse the threat model and its static defense map."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from medsec.cli._common import Format, print_json, print_table
from medsec.errors import MedsecError

app = typer.Typer(
    help="Browse the threat taxonomy: attacks, defenses and how they map.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@app.callback()
def taxonomy(
    ctx: typer.Context,
    objective: Annotated[str | None, typer.Option(help="Only attacks on this objective.")] = None,
    stage: Annotated[
        str | None, typer.Option(help="Only attacks introduced or exploited at this lifecycle stage.")
    ] = None,
    capability: Annotated[
        str | None, typer.Option(help="Only attacks whose weakest sufficient attacker is this one (A0-A5).")
    ] = None,
    max_capability: Annotated[
        str | None, typer.Option(help="Only attacks an attacker of at most this capability can mount.")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """List the attacks of the threat taxonomy, optionally filtered."""
    if ctx.invoked_subcommand is not None:
        return
    from medsec.taxonomy import load_taxonomy
    from medsec.taxonomy.query import filter_attacks
    from medsec.taxonomy.render import render_markdown, taxonomy_as_json

    tax = load_taxonomy()
    filtered = any(v is not None for v in (objective, stage, capability, max_capability))
    attacks = filter_attacks(
        tax, objective=objective, stage=stage, capability=capability, max_capability=max_capability
    )
    if fmt is Format.json:
        print_json(taxonomy_as_json(tax, attacks if filtered else None))
    elif fmt is Format.markdown:
        if filtered:
            raise MedsecError("--format markdown renders the whole taxonomy; drop the filters or use json")
        sys.stdout.write(render_markdown(tax))
    else:
        rows = [
            [
                a.id,
                a.name,
                ",".join(a.objectives),
                a.capability,
                f"{'/'.join(a.introduced)} → {'/'.join(a.exploited)}",
            ]
            for a in attacks
        ]
        headers = ["id", "name", "objectives", "attacker", "introduced → exploited"]
        print_table(f"{len(attacks)} of {len(tax.attacks)} attacks", headers, rows)


@app.command("show")
def taxonomy_show(
    item_id: Annotated[str, typer.Argument(metavar="ID", help="An attack or defense id.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.markdown,
) -> None:
    """Show one attack or defense in full, with its evidence and references."""
    from medsec.taxonomy import load_taxonomy
    from medsec.taxonomy.render import render_attack, render_defense

    tax = load_taxonomy()
    attack, defense = tax.attack(item_id), tax.defense(item_id)
    if attack is None and defense is None:
        import difflib

        ids = [a.id for a in tax.attacks] + [d.id for d in tax.defenses]
        close = difflib.get_close_matches(item_id, ids, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; list them with `medsec taxonomy`"
        raise MedsecError(f"no attack or defense has id {item_id!r}{hint}")
    if fmt is Format.json:
        data = attack.model_dump(mode="json") if attack else defense.model_dump(mode="json")  # type: ignore[union-attr]
        if defense is not None:
            data["mitigates"] = [a.id for a in tax.mitigated_by(defense.id)]
        print_json(data)
        return
    lines = render_attack(attack, tax) if attack else render_defense(defense, tax)  # type: ignore[arg-type]
    sys.stdout.write("\n".join(lines))


def coverage(
    defenses: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated defense ids assumed deployed, e.g. phi-deidentification,access-control."
        ),
    ] = None,
    policy: Annotated[
        str | None, typer.Option(help="A guard policy (shipped name or file): the defenses it configures.")
    ] = None,
    run: Annotated[
        str | None, typer.Option(help="With --policy: a scan run whose measured attack success to join in.")
    ] = None,
    store: Annotated[str | None, typer.Option("--store", help="Run store URL (with --run).")] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="Output format (table or json).")
    ] = Format.table,
) -> None:
    """Show which attacks no chosen defense mitigates, by objective.

    With --policy (and --run): for every attack, whether the policy configures a defense and whether the
    scan showed it held.
    """
    from medsec.taxonomy import load_taxonomy
    from medsec.taxonomy.query import coverage as compute_coverage

    if policy is not None:
        from medsec.cli.efficacy import show_policy_coverage

        show_policy_coverage(policy, run, fmt, store)
        return
    if run is not None:
        raise MedsecError("--run needs --policy: the measured view joins a policy's defenses with a run")
    if defenses is None:
        raise MedsecError("give --defenses ID,ID,... or --policy P [--run RUN]")
    tax = load_taxonomy()
    result = compute_coverage(tax, defenses.split(","))
    if fmt is Format.json:
        print_json({**result.model_dump(mode="json"), "uncovered": list(result.uncovered)})
        return
    if fmt is Format.markdown:
        raise MedsecError("coverage prints table or json")
    rows = [
        [o.objective, str(len(o.covered)), str(len(o.uncovered)), ", ".join(o.uncovered) or "-"]
        for o in result.objectives
    ]
    print_table(
        f"Coverage by {len(result.defenses)} defense(s): {len(result.uncovered)} attack(s) unmitigated",
        ["objective", "mitigated", "unmitigated", "unmitigated attacks"],
        rows,
    )
