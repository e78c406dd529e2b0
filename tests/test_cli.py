"""The ivr-line command: check, text and call, as a resident or a maintainer runs them."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run(args, stdin="", tmp_path=None, **env):
    environment = {**os.environ, "TWILIO_AUTH_TOKEN": "cli-token", **env}
    if tmp_path is not None:
        environment["IVR_DATA_DIR"] = str(tmp_path)
    return subprocess.run([sys.executable, "-m", "ivr.cli", *args], input=stdin, text=True,
                          capture_output=True, env=environment, timeout=60)


def test_check_validates_the_catalogue_and_reports_languages(tmp_path):
    r = run(["check"], tmp_path=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "61 services" in r.stdout
    assert "pl Polish" in r.stdout


def test_check_fails_on_a_broken_catalogue(tmp_path):
    import shutil
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent / "catalogue"
    bad = tmp_path / "catalogue"
    shutil.copytree(root, bad)
    (bad / "services" / "roads.yaml").write_text("- id: Not An Id\n")
    r = run(["check"], tmp_path=tmp_path, IVR_CATALOGUE_DIR=str(bad))
    assert r.returncode == 1
    assert "roads.yaml" in r.stdout


def test_text_prints_the_reply(tmp_path):
    r = run(["text", "fraud"], tmp_path=tmp_path)
    assert r.returncode == 0
    assert r.stdout.startswith("Action Fraud")


def test_call_plays_a_call_in_the_terminal(tmp_path):
    # English is key 1 on the language menu when there is one; then a category, a service, end.
    r = run(["call"], stdin="1\n1\n2\n3\n", tmp_path=tmp_path)
    out = r.stdout
    assert r.returncode == 0, r.stderr
    first_said = next(line for line in out.splitlines() if line.strip().startswith("["))
    assert "999" in first_said
    assert "hung up" in out


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"]])
def test_help(args):
    assert run(args).returncode == 0
