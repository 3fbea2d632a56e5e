"""An operator's mistakes at the `accord` command: each expected failure of `accord officer …` and a mistyped
`--data` end with one line saying what to do and a non-zero exit, never a traceback, and change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from accord.cli import app
from accord.store.tables import officers
from tests.conftest import databases_for
from tests.integration.nodes import PASSWORD, PairTemplates, RunningNode

ADD = ["officer", "add", "--username", "j.doe", "--agency", "RCMP", "--name", "J. Doe", "--role", "officer"]


@pytest.fixture(scope="module")
def canada(templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """A copy of the Canada test node, never started: the commands open its data directory as an operator would."""
    root = tmp_path_factory.mktemp("operator-cli")
    databases = databases_for("sqlite", root)
    ca, _ = templates.copy(databases, root)
    yield ca
    ca.dispose()
    databases.drop_all()


def run(node: RunningNode, *args: str, stdin: str = PASSWORD + "\n") -> tuple[int, str]:
    """`accord ARGS` on the node's data; its exit code and what it wrote to stderr, with any traceback."""
    result = CliRunner().invoke(app, list(args), input=stdin, env={"ACCORD_DATABASE_URL": node.database_url})
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("change", "stdin", "said"),
    [
        ({"--username": "ca.rcmp"}, PASSWORD, "an officer named 'ca.rcmp' exists already"),
        ({"--role": "boss"}, PASSWORD, "unknown role 'boss'; the roles are officer, analyst"),
        ({"--agency": "NCB"}, PASSWORD, "unknown agency 'NCB' of party CA; one of CAFC, CBSA"),
        ({"--clearance": "cosmic"}, PASSWORD, "unknown clearance 'cosmic'"),
        ({"--focus-area": "piracy"}, PASSWORD, "focus areas ['piracy'] are not in the agreement"),
        ({"--email": "not-an-address"}, PASSWORD, "is not an email address"),
        ({"--language": "xx"}, PASSWORD, "unknown language 'xx'"),
        ({}, "short", "at least 12 characters"),
        ({}, "", "at least 12 characters"),
        ({"--data": "var/canada"}, PASSWORD, "no node in var/canada (there is no such directory)"),
    ],
)
def test_each_expected_failure_of_officer_add_is_one_line_and_a_nonzero_exit(
    canada: RunningNode, change: dict[str, str], stdin: str, said: str
) -> None:
    options = dict(zip(ADD[2::2], ADD[3::2], strict=True)) | {"--data": str(canada.data_dir)} | change
    args = ["officer", "add", *(part for pair in options.items() for part in pair), "--password-stdin"]
    code, stderr = run(canada, *args, stdin=stdin + "\n")
    assert code != 0 and said in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    with canada.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(officers.c.username == "j.doe")).scalar_one() == 0


def test_officer_add_without_a_terminal_asks_for_the_password_on_stdin(canada: RunningNode) -> None:
    code, stderr = run(canada, *ADD, "--data", str(canada.data_dir), stdin="")
    assert code != 0 and "--password-stdin" in stderr and len(stderr.strip().splitlines()) == 1


def test_officer_language_and_unlock_name_an_unknown_officer_in_one_line(canada: RunningNode) -> None:
    for args in (("language", "nobody", "fr"), ("unlock", "nobody")):
        code, stderr = run(canada, "officer", *args, "--data", str(canada.data_dir))
        assert code != 0 and "'nobody'" in stderr and len(stderr.strip().splitlines()) == 1, stderr


def test_a_mistyped_data_directory_names_the_sandbox_directories_and_the_real_init_command(
    canada: RunningNode, tmp_path: Path
) -> None:
    code, stderr = run(canada, "audit", "export", "--data", "var/canada", "--out", str(tmp_path / "bundle.json.gz"))
    assert code != 0 and len(stderr.strip().splitlines()) == 1
    assert "the sandbox's are var/ca and var/in" in stderr
    assert "`accord node init --party CA --data var/canada`" in stderr
    assert not (tmp_path / "bundle.json.gz").exists()
