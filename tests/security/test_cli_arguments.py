"""The command line reads text: an argument the system cannot decode (bytes that are not UTF-8),
or one holding a card number, is refused by `medworks` itself, whatever the command, with one
line on stderr and status 2 (issue 14). The real console script, as a shell runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MEDWORKS = Path(sys.executable).with_name("medworks")


def run(*args: bytes | str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        MEDWORKS_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="medworks.settings",
        LC_ALL="C.UTF-8",
    )
    argv = [os.fsencode(MEDWORKS), *(a if isinstance(a, bytes) else a.encode() for a in args)]
    return subprocess.run(argv, env=env, capture_output=True, timeout=60)


@pytest.mark.parametrize(
    "args",
    [
        [b"\xff"],
        [b"match", b"--postal-code", b"M5V\xff3L9", b"--service", b"XRAY"],
        [b"quote", b"--clinic-cost", b"\xc3\x28", b"--province", b"ON"],
        [b"import-partners", b"/tmp/\xfe\xfe.xlsx"],
        [b"api-key", b"create", b"--organisation", b"Maple \xe9", b"--name", b"x"],
    ],
)
def test_an_undecodable_argument_is_one_line_and_status_2(args, tmp_path):
    done = run(*args, tmp_path=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stdout == b""
    lines = done.stderr.decode("utf-8").strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("medworks: Argument ")
    assert "not valid text" in lines[0]
    assert b"Traceback" not in done.stderr


def test_a_card_number_in_an_argument_is_refused_and_never_echoed(tmp_path):
    done = run(
        "api-key",
        "create",
        "--organisation",
        "Maple",
        "--name",
        "4111 1111 1111 1111",
        tmp_path=tmp_path,
    )
    assert done.returncode == 2
    line = done.stderr.decode().strip()
    assert "holds a card number" in line and "\n" not in line
    assert "4111" not in line


def test_a_good_command_line_still_runs(tmp_path):
    done = run("check", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
