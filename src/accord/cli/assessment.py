"""`accord assessment record|list`: mistreatment-risk assessments, recorded by a legal officer or the deputy head for
persons of a case (the pack's factors each rated, the conclusion, its basis and measures), and listed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from accord.cli._console import DataOption, console, node_as_officer, stop
from accord.i18n import _

assessment_app = typer.Typer(
    help=_("Mistreatment-risk assessments (ACMFEA and the Directions under it): record one for a case, list them."),
    no_args_is_help=True,
)

OfficerOption = Annotated[str, typer.Option("--officer", help=_("the legal officer or deputy head, by username"))]
CaseOption = Annotated[str | None, typer.Option("--case", help=_("the case (overrides the file's case_id)"))]


@assessment_app.command(
    "record", help=_("Record an assessment; the case's held disclosures are decided again with it.")
)
def record(
    file: Annotated[
        Path, typer.Argument(help=_("the assessment (YAML or JSON): case_id, persons, factors, conclusion …"))
    ],
    data: DataOption,
    officer: OfficerOption,
    case: CaseOption = None,
) -> None:
    from accord.datafiles import load_file
    from accord.domain.assessments import AssessmentDraft
    from accord.errors import AccordError, InvalidInput
    from accord.exchange.assessments import record_assessment

    try:
        draft = load_file(AssessmentDraft, file, InvalidInput, kind="assessment")
    except AccordError as exc:
        stop(exc.detail)
    if case is not None:
        draft = AssessmentDraft.model_validate(draft.model_dump() | {"case_id": case})
    with node_as_officer(data, officer) as (node, assessor):
        try:
            recorded = record_assessment(node, assessor, draft)
        except AccordError as exc:
            stop(exc.detail)
    a, again = recorded.assessment, recorded.redecided
    console.print(
        _(
            "recorded assessment {id} for case {case_id}: {sentence}; valid until {valid_until} (the "
            "case's held disclosures decided again: {allow} leave, {deny} refused, {review} still "
            "held)"
        ).format(
            id=a.id,
            case_id=a.case_id,
            sentence=_(a.conclusion.sentence),
            valid_until=a.valid_until,
            allow=again["allow"],
            deny=again["deny"],
            review=again["review"],
        )
    )


@assessment_app.command(
    "list", help=_("The assessments recorded at this node, oldest first (of one case with --case).")
)
def list_(data: DataOption, officer: OfficerOption, case: CaseOption = None) -> None:
    from accord.errors import AccordError
    from accord.exchange.assessments import list_assessments

    with node_as_officer(data, officer) as (node, reader):
        try:
            found = list_assessments(node, reader, case)
        except AccordError as exc:
            stop(exc.detail)
    table = Table(_("id"), _("case"), _("persons"), _("conclusion"), _("assessor"), _("assessed on"), _("valid until"))
    for a in found:
        table.add_row(
            a.id,
            a.case_id,
            escape(", ".join(p.label for p in a.persons)),
            a.conclusion.value,
            a.assessor,
            a.assessed_on.isoformat(),
            a.valid_until.isoformat(),
        )
    console.print(table)
    console.print(_("{count} assessments").format(count=len(found)))
