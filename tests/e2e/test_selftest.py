"""`workbench --self-test` runs the whole engine headless and exits 0."""

from __future__ import annotations

import subprocess
import sys


def test_self_test_passes_in_a_real_process():
    # FutureWarnings are errors here: a deprecation (transformers' `past_key_values=` was one) is fixed
    # before its removal breaks users, not shipped. The self-test captures its commands' stderr, so an
    # ignored warning would never show in `result.stderr`.
    result = subprocess.run([sys.executable, "-W", "error::FutureWarning", "-m", "workbench", "--self-test"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    for stage in ("import", "tokenizer", "train", "generate", "attention", "export"):
        assert f"ok  {stage}" in result.stdout
    assert "self-test passed" in result.stdout
    assert "Traceback" not in result.stderr


def test_self_test_json_is_one_document_with_every_stage(capsys):
    import json

    from workbench.cli import main

    assert main(["--self-test", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["passed"] is True
    assert [s["stage"] for s in doc["stages"]] == ["project", "import", "tokenizer", "train", "generate",
                                                    "attention", "export"]
    assert all(s["ok"] and s["seconds"] >= 0 and s["detail"] for s in doc["stages"])


def test_the_self_test_drives_the_command_line_it_is_given(capsys):
    """`workbench.cli` hands its `main` in, so the self-test never imports the command line back."""
    import json

    from workbench.selftest import run_self_test

    seen: list[list[str]] = []

    def refusing_main(argv: list[str]) -> int:
        seen.append(argv)
        print("error: refused", file=sys.stderr)
        return 2

    assert run_self_test(refusing_main, as_json=True) == 1
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["passed"] is False and [s["stage"] for s in doc["stages"]] == ["project"]
    assert "exited 2: error: refused" in doc["stages"][0]["error"]
    assert len(seen) == 1 and seen[0][0] == "new" and seen[0][1].endswith("selftest.wbproj")
    assert "FAIL project" in captured.err
