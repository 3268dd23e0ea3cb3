"""What the docs say twice is kept true: every option of `doodle paint` in docs/options.md, one version."""

import re
import tomllib
from pathlib import Path

import typer.main

import doodle
from doodle.cli import app

ROOT = Path(__file__).resolve().parents[1]


def test_every_option_of_doodle_paint_is_in_the_options_table():
    # `--last-vote` was missing from the hand-written table.
    listed = set(re.findall(r"^\| `(--[\w-]+)", (ROOT / "docs" / "options.md").read_text(), flags=re.M))
    declared = {param.opts[0] for param in typer.main.get_command(app).commands["paint"].params}
    assert declared <= listed, sorted(declared - listed)
    assert listed <= declared, sorted(listed - declared)  # (no option the command no longer has)


def test_the_package_has_one_version():
    # pyproject.toml said 0.4.0 while doodle/version.py said 0.5.0 (records key their replay rules on it).
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    from importlib.metadata import version

    assert version("doodle") == doodle.__version__
