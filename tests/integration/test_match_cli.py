"""`accord match link` through the real command: two small person files in several scripts, in the clear and on
keyed encodings; unusable input ends with exit code 2, its lines named, and no output file."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

ACCORD = shutil.which("accord") or str(Path(sys.executable).parent / "accord")
LEFT = """id,name,date_of_birth,sex,phone
l1,Gurpreet Kaur Sandhu,03/04/1990,F,98765 43210
l2,Rajesh Kumar Sharma,1985-06-01,M,
l3,Manpreet Singh Grewal,1962-09-30,M,
"""
RIGHT = """id,name,date_of_birth,sex,phone
r1,ਗੁਰਪ੍ਰੀਤ ਕੌਰ ਸੰਧੂ,1990-04-03,female,+91 98765 43210
r2,राजेश शर्मा,01/06/1985,M,
r3,Manpreet Singh Grewal,1988-05-17,M,
"""


def _run(tmp_path: Path, left: str, right: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    (tmp_path / "left.csv").write_text(left, encoding="utf-8")
    (tmp_path / "right.csv").write_text(right, encoding="utf-8")
    out = tmp_path / "pairs.csv"
    args = [ACCORD, "match", "link", str(tmp_path / "left.csv"), str(tmp_path / "right.csv"), "--out", str(out)]
    return subprocess.run([*args, *extra], capture_output=True, text=True, timeout=120), out


def test_pairs_across_scripts_are_written_in_the_clear_and_encoded(tmp_path: Path) -> None:
    for extra in ((), ("--privacy-preserving",)):
        done, out = _run(tmp_path, LEFT, RIGHT, *extra)
        assert done.returncode == 0, done.stderr
        rows = list(csv.DictReader(out.open(encoding="utf-8")))
        assert {(r["left_id"], r["right_id"]) for r in rows} == {("l1", "r1"), ("l2", "r2")}
        assert all(0.9 <= float(r["score"]) <= 1.0 for r in rows)


def test_unusable_rows_are_named_by_line_and_nothing_is_written(tmp_path: Path) -> None:
    done, out = _run(tmp_path, LEFT + "l1,Ravi Kumar,31/02/1990,M,\nl5,,1990,,\n", RIGHT)
    assert done.returncode == 2
    assert "line 5" in done.stderr and "line 6" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_a_missing_file_or_header_is_exit_code_2(tmp_path: Path) -> None:
    done, out = _run(tmp_path, "name\nHarjit\n", RIGHT)
    assert done.returncode == 2 and "id" in done.stderr and not out.exists()
