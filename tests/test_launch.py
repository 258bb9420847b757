"""The frozen app's start: freeze_support, torch's environment, and `APP -m MODULE ...`."""

from __future__ import annotations

import sys

import pytest

from workbench import launch


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delenv("TORCHDYNAMO_DISABLE", raising=False)


@pytest.mark.parametrize(("argv", "expected"), [
    (["-m", "torch.distributed.run", "--nproc-per-node", "2", "x.py"],
     ("torch.distributed.run", ["--nproc-per-node", "2", "x.py"])),
    (["-mworkbench", "runs", "p"], ("workbench", ["runs", "p"])),
    (["-u", "-m", "workbench", "train", "p"], ("workbench", ["train", "p"])),  # a torchrun worker
    (["runs", "p"], None),
    (["-m"], None),
    ([], None),
])
def test_module_requests_are_read_like_python_reads_them(argv, expected):
    assert launch.module_request(argv) == expected


def test_torch_compile_is_switched_off_but_a_users_choice_is_kept():
    env: dict[str, str] = {}
    launch.prepare_frozen_environment(env)
    assert env["TORCHDYNAMO_DISABLE"] == "1"
    env = {"TORCHDYNAMO_DISABLE": "0"}
    launch.prepare_frozen_environment(env)
    assert env["TORCHDYNAMO_DISABLE"] == "0"


def test_a_frozen_app_runs_its_command_line_with_dash_m(frozen, capsys):
    assert launch.main(["-m", "workbench", "--version"]) == 0
    assert capsys.readouterr().out.startswith("lm-workbench ")
    assert launch.os.environ["TORCHDYNAMO_DISABLE"] == "1"


def test_a_frozen_app_refuses_other_modules(frozen, capsys):
    assert launch.main(["-m", "http.server"]) == 2
    assert "not 'http.server'" in capsys.readouterr().err


def test_outside_a_bundle_dash_m_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert launch.main(["-m", "torch.distributed.run"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_a_frozen_app_launches_torchrun_workers(frozen, tmp_path):
    """`APP -m torch.distributed.run` is torchrun itself: two workers start, each with its rank."""
    script = tmp_path / "worker.py"
    script.write_text("import os, pathlib, sys\n"
                      "pathlib.Path(sys.argv[1], os.environ['RANK']).write_text(os.environ['WORLD_SIZE'])\n")
    argv = ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(script), str(tmp_path)]
    assert launch.main(argv) == 0
    assert {p.name: p.read_text() for p in tmp_path.iterdir() if p.name != "worker.py"} == {"0": "2", "1": "2"}
