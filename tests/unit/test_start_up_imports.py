"""What a node process and a CLI command import as they start: the libraries only some requests or commands use
(charts, FollowTheMoney's model, transliteration, STIX parsing, numpy) are imported when first used, never at
start-up, which every test's node process and every operator's command would otherwise pay for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Each costs from a fifth of a second to nearly one to import (its data files read, its classes built).
DEFERRED = ("matplotlib", "followthemoney", "indic_transliteration", "stix2", "stix2validator", "numpy", "PIL")
# The API and the web UI: only `accord node serve` builds them.
SERVED_ONLY = ("fastapi", "accord.api", "accord.web")

# Run in a fresh interpreter: this test process has imported everything the other tests use.
PROBE = """
import json, sys
from pathlib import Path

def loaded(names):
    return sorted(n for n in names if n in sys.modules)

import accord.bootstrap
from accord.bootstrap import create_app, init_node, open_node
from accord.config import load_settings, write_node_file
from accord.domain.parties import Party

names = json.loads(sys.argv[2])
at_import = loaded(names)
data = Path(sys.argv[1])
data.mkdir()
write_node_file(data, "127.0.0.1", 9, None)
init_node(load_settings(data), Party.CA).close()
node = open_node(load_settings(data))
opened = loaded(names)
create_app(node, delivery_workers=0)
served = loaded(names)
node.close()
print(json.dumps({"import": at_import, "open": opened, "serve": served}))
"""


def _loaded(data: Path) -> dict[str, list[str]]:
    names = [*DEFERRED, *SERVED_ONLY]
    src = str(Path(__file__).resolve().parents[2] / "src")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(data), json.dumps(names)],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")} | {"PYTHONPATH": src},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_opening_a_node_and_building_its_app_import_no_library_only_some_requests_use(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path / "node")
    assert loaded["import"] == [], "imported by `import accord.bootstrap`"
    assert loaded["open"] == [], "imported by opening a node, as every CLI command does"
    assert [name for name in loaded["serve"] if name in DEFERRED] == [], "imported by building the app"
    assert set(loaded["serve"]) >= set(SERVED_ONLY)
