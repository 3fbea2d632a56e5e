"""`accord policy`: read, test, diff and install a party's policy pack without reading Python."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from accord.cli._console import DataOption, console, opened_node, stop
from accord.datafiles import load_agreement
from accord.errors import AccordError
from accord.i18n import _
from accord.policy.cases import CaseResult, family_results, load_cases, run_cases, uncovered_policies
from accord.policy.pack import PolicyPack, load_pack

policy_app = typer.Typer(help=_("The party's disclosure policy pack (Cedar policies with their legal sources)."))
PackArgument = Annotated[Path, typer.Argument(help=_("a pack directory (manifest.yaml, policies.cedar)"))]


def _load(directory: Path) -> PolicyPack:
    try:
        return load_pack(directory)
    except AccordError as exc:
        stop(exc.detail)


@policy_app.command("show", help=_("List the pack's policies, each with what it does and the law it enforces."))
def show(pack_dir: PackArgument) -> None:
    pack = _load(pack_dir)
    console.print(
        _("[bold]{escape}[/]\n{label}  (sha256 {sha256})").format(
            escape=escape(pack.manifest.title), label=pack.label, sha256=pack.sha256
        )
    )
    table = Table(_("policy"), _("effect"), _("citation"))
    for info in pack.policies.values():
        effect = "permit" if info.effect == "permit" else ("hold for review" if info.review else "refuse")
        table.add_row(info.id, effect, escape(info.citation))
    console.print(table)


@policy_app.command(
    "test",
    help=_("Run a table of cases against the pack: pass or fail per case; exit 1 on any failure or untested policy."),
)
def test(pack_dir: PackArgument, cases_file: Annotated[Path, typer.Argument(help=_("a case table (YAML)"))]) -> None:
    pack = _load(pack_dir)
    try:
        results = run_cases(pack, load_cases(cases_file), load_agreement())
    except AccordError as exc:
        stop(exc.detail)
    for result in results:
        if result.passed:
            console.print(_("[green]pass[/] {escape}").format(escape=escape(result.case.name)))
            continue
        got = result.error or (
            f"got {result.decision.verdict} by {[p.id for p in result.decision.policies]}" if result.decision else ""
        )
        expected = result.case.expect
        console.print(
            _("[bold red]FAIL[/] {escape}: expected {decision} by {list}, {escape2}").format(
                escape=escape(result.case.name),
                decision=expected.decision,
                list=list(expected.policies),
                escape2=escape(got),
            )
        )
    failed = [r for r in results if not r.passed]
    uncovered = uncovered_policies(pack, results)
    _print_families(results)
    console.print(
        _("{value}/{count} cases pass; pack {label}").format(
            value=len(results) - len(failed), count=len(results), label=pack.label
        )
    )
    if uncovered:
        console.print(_("[bold red]policies no passing case exercises:[/] {join}").format(join=", ".join(uncovered)))
    if failed or uncovered:
        raise typer.Exit(code=1)


def _print_families(results: list[CaseResult]) -> None:
    """Per rule family: how many cases, how many pass, and which policies its passing cases exercise."""
    table = Table(_("rule family"), _("cases"), _("pass"), _("policies exercised"))
    for family, members in family_results(results).items():
        passed = [r for r in members if r.passed]
        exercised = sorted({p for r in passed for p in r.case.expect.policies})
        table.add_row(family, str(len(members)), str(len(passed)), ", ".join(exercised) or "—")
    console.print(table)


@policy_app.command(
    "diff", help=_("What changed between two packs: policies added, removed or changed, and screen settings.")
)
def diff(old_dir: PackArgument, new_dir: PackArgument) -> None:
    old, new = _load(old_dir), _load(new_dir)
    console.print(f"{old.label} → {new.label}")
    before, after = old.by_annotated_id(), new.by_annotated_id()
    for policy_id in sorted(set(before) | set(after)):
        if policy_id not in after:
            console.print(_("[red]- removed[/] {policy_id}").format(policy_id=policy_id))
        elif policy_id not in before:
            console.print(
                _("[green]+ added[/] {policy_id}: {escape}").format(
                    policy_id=policy_id, escape=escape(after[policy_id].citation)
                )
            )
        elif before[policy_id] != after[policy_id]:
            console.print(_("[yellow]~ changed[/] {policy_id}").format(policy_id=policy_id))
    for label, a, b in (
        ("policies.cedar", old.cedar_text, new.cedar_text),
        ("screens", _yaml(old), _yaml(new)),
    ):
        lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), f"old/{label}", f"new/{label}", lineterm=""))
        if lines:
            console.print(escape("\n".join(lines)))


def _yaml(pack: PolicyPack) -> str:
    return yaml.safe_dump(json.loads(pack.manifest.model_dump_json()), sort_keys=True)


@policy_app.command(
    "install",
    help=_("Install a pack on this node (signed with the node's key), log the change and decide held messages again."),
)
def install(
    pack_dir: PackArgument,
    data: DataOption,
    cases_file: Annotated[
        Path | None, typer.Option("--cases", help=_("refuse the pack unless these cases pass"))
    ] = None,
) -> None:
    from accord.exchange.pack_install import install_policy_pack

    candidate = _load(pack_dir)
    if cases_file is not None:
        results = run_cases(candidate, load_cases(cases_file), load_agreement())
        if not all(r.passed for r in results):
            stop(
                _("{sum} of {count} cases fail; not installed").format(
                    sum=sum(not r.passed for r in results), count=len(results)
                )
            )
    with opened_node(data) as node:
        try:
            installed = install_policy_pack(node, candidate, pack_dir)
        except AccordError as exc:
            stop(exc.detail)
    if not installed.changed:
        console.print(_("{label} is installed already; nothing changed").format(label=installed.pack.label))
        return
    console.print(
        _("installed {label}; held messages decided again: {counts}").format(
            label=installed.pack.label, counts=installed.redecided
        )
    )
