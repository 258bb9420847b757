"""packaging/: the spec keeps what the app loads; the installer configurations say what they promise."""

from __future__ import annotations

import ast
import plistlib
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"


def _spec_constant(name: str):
    tree = ast.parse((PACKAGING / "lm-workbench.spec").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in the spec")


def test_the_bundle_keeps_every_transformers_family_the_app_builds():
    from workbench.core.base.specs import ModelSpec
    from workbench.core.models.modeling import HF_CLASSES, hf_config

    kept = _spec_constant("KEPT_MODEL_FAMILIES")
    assert "auto" in kept  # AutoConfig / AutoTokenizer / AutoModel* live there
    for arch in HF_CLASSES:
        config = hf_config(ModelSpec(arch=arch, n_layer=1, n_head=2, n_embd=8, block_size=8, vocab_size=16))
        assert config.model_type in kept, arch
        assert HF_CLASSES[arch].__module__.split(".")[2] in kept, arch


def test_the_mac_bundle_declares_project_folders_high_dpi_and_dark_mode():
    plist = plistlib.loads((PACKAGING / "macos" / "Info.plist").read_bytes())
    assert plist["NSHighResolutionCapable"] is True and plist["NSRequiresAquaSystemAppearance"] is False
    project_type = plist["UTExportedTypeDeclarations"][0]
    assert project_type["UTTypeTagSpecification"]["public.filename-extension"] == ["wbproj"]
    assert "com.apple.package" in project_type["UTTypeConformsTo"]  # Finder shows a project as one document
    assert plist["CFBundleDocumentTypes"][0]["LSItemContentTypes"] == [project_type["UTTypeIdentifier"]]


def test_the_windows_installer_is_per_user_with_shortcuts_and_the_project_verb():
    iss = (PACKAGING / "windows" / "lm-workbench.iss").read_text(encoding="utf-8")
    assert "PrivilegesRequired=lowest" in iss and "{localappdata}\\Programs" in iss
    assert "{autodesktop}" in iss and "{group}\\Uninstall" in iss
    registry = [line for line in iss.splitlines() if line.startswith("Root:")]
    assert registry and all(line.startswith("Root: HKA;") for line in registry)  # HKCU when not admin
    assert any('"System.FileName:""*.wbproj"""' in line for line in registry)


def test_the_release_workflow_builds_three_systems_and_runs_the_frozen_self_test():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    job = workflow["jobs"]["build"]
    systems = {entry["os"] for entry in job["strategy"]["matrix"]["include"]}
    assert {"windows-2022", "macos-14", "ubuntu-22.04"} <= systems  # macos-14 runners are arm64
    scripts = "\n".join(step.get("run", "") for step in job["steps"])
    assert "--self-test" in scripts and "packaging/build.sh" in scripts and "build.ps1" in scripts
    assert any(step.get("uses", "").startswith("actions/upload-artifact") for step in job["steps"])


@pytest.mark.parametrize(("args", "code", "stream", "text"), [
    (["--help"], 0, "stdout", "packaging/build.sh --check"),
    (["--bogus"], 2, "stderr", "error: unknown option --bogus"),
])
def test_build_script_options(args, code, stream, text):
    result = subprocess.run(["bash", str(PACKAGING / "build.sh"), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == code and text in getattr(result, stream)
