"""The README's runnable shell examples (each ```sh block right after `<!-- example: run -->`), written into one
script for one shell, as a reader types them one after the other while `make run` runs; and the `accord` that
shell finds on its PATH.

That `accord` is the real command, run by the tests' launcher (a process with Accord imported already, forked per
call: tests/integration/launcher.py) with the shell's arguments, environment, working directory, input and output,
and its exit code; a fresh interpreter for each of the examples' dozens of calls would cost seconds each. Between
two blocks the shell waits until neither node has anything left to deliver, as a reader's pace would."""

from __future__ import annotations

import json
import re
import shlex
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.launcher import NodeLauncher

RUNNABLE = re.compile(r"^<!-- example: run -->\n```(?:sh|bash)\n(.*?)\n```$", re.MULTILINE | re.DOTALL)
# The sandbox's addresses as the README writes them (`make run`'s ports), by party code.
README_ADDRESSES = {"IN": "127.0.0.1:8401", "CA": "127.0.0.1:8402"}
BARRIER = "readme-barrier"
CALL_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class Block:
    line: int  # of the README, where its code begins
    code: str


def runnable_blocks(readme: Path) -> list[Block]:
    text = readme.read_text(encoding="utf-8")
    return [Block(text.count("\n", 0, match.start(1)) + 1, match.group(1)) for match in RUNNABLE.finditer(text)]


def shell_script(blocks: list[Block], addresses: dict[str, str]) -> str:
    """One bash script of the blocks, on the sandbox's own addresses, stopping at the first command that fails; each
    block announced with its README line, after a barrier."""
    parts = ["set -euo pipefail"]
    for block in blocks:
        code = block.code
        for party, written in README_ADDRESSES.items():
            code = code.replace(written, addresses[party])
        title = shlex.quote(f"--- README.md line {block.line}")
        parts.append(f"{BARRIER}\necho\necho {title}\n{code}")
    return "\n".join(parts) + "\n"


class AccordShim:
    """A folder with `accord` and the barrier on a PATH, served from a Unix socket in this test process."""

    def __init__(self, launcher: NodeLauncher, folder: Path, wait_quiet: Callable[[], None]) -> None:
        self.launcher = launcher
        self.wait_quiet = wait_quiet
        self.bin = folder / "bin"
        self.bin.mkdir()
        self.socket_path = folder / "accord.sock"
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.socket_path))
        self._server.listen()
        for name in ("accord", BARRIER):
            script = self.bin / name
            script.write_text(_CLIENT.format(python=sys.executable, socket=str(self.socket_path), name=name))
            script.chmod(0o700)
        threading.Thread(target=self._serve, name="accord-shim", daemon=True).start()

    def close(self) -> None:
        self._server.close()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rw", encoding="utf-8") as stream:
            request = json.loads(stream.readline())
            try:
                code = self._run(request)
            except Exception as exc:  # the shell sees a failed command, and why
                print(f"the test's accord shim failed: {exc!r}", file=sys.stderr)
                code = 125
            stream.write(f"{code}\n")

    def _run(self, request: dict[str, Any]) -> int:
        if request["name"] == BARRIER:
            self.wait_quiet()
            return 0
        with tempfile.TemporaryDirectory(prefix="accord-shim-") as folder:
            status = Path(folder) / "status"
            files = {name: request[name] for name in ("stdin", "stdout", "stderr")} | {"status": str(status)}
            code = self.launcher.run_attached(
                request["argv"], request["env"], request["cwd"], files, timeout_s=CALL_TIMEOUT_S
            )
            return 137 if code is None else code


# The client both commands are: its own input and output are handed over by path (/proc/PID/fd/N), so the command
# reads and writes the shell's own pipes and files.
_CLIENT = """#!{python} -IS
import json, os, socket, sys
me = os.getpid()
request = {{"name": "{name}", "argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}}
request.update({{name: f"/proc/{{me}}/fd/{{fd}}" for fd, name in enumerate(("stdin", "stdout", "stderr"))}})
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
    server.connect("{socket}")
    server.sendall(json.dumps(request).encode() + b"\\n")
    answer = server.makefile().readline()
sys.exit(int(answer) if answer.strip() else 1)
"""
