"""Devices: choice, memory readings, autocast, the thread-count probe."""

from __future__ import annotations

import psutil
import pytest
import torch

from workbench.core.base import devices
from workbench.core.base.errors import InvalidSpecError


def test_auto_and_cpu_choices():
    assert devices.choose_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if devices._mps_available() else "cpu")
    assert devices.choose_device("auto").type == expected
    assert devices.choose_device().type == expected


def test_asking_for_an_absent_gpu_says_what_to_do():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(InvalidSpecError, match="--device cpu"):
        devices.choose_device("cuda")
    if not devices._mps_available():
        with pytest.raises(InvalidSpecError, match="--device cpu"):
            devices.choose_device("mps")
    with pytest.raises(InvalidSpecError, match="auto, cpu, cuda or mps"):
        devices.choose_device("tpu")


def test_memory_readings():
    assert devices.memory_mb("cpu") > 10  # this process holds torch at least
    total = devices.total_memory_bytes(torch.device("cpu"))
    available = devices.available_memory_bytes("cpu")
    assert total > 2**28 and 0 < available <= total


def test_cpu_memory_readings_are_psutils():
    # The same reading on every OS (the hand-written macOS path returned the total as "available").
    memory = psutil.virtual_memory()
    assert devices.total_memory_bytes("cpu") == memory.total
    available = devices.available_memory_bytes("cpu")
    assert 0 < available < memory.total
    assert available == pytest.approx(psutil.virtual_memory().available, rel=0.05)
    rss_mb = psutil.Process().memory_info().rss / 2**20
    assert devices.memory_mb("cpu") == pytest.approx(rss_mb, rel=0.05)


def test_available_memory_follows_psutil(monkeypatch):
    # psutil is the one source: a machine with 3 of 16 GiB free reads 3 GiB on any platform.
    reading = type("svmem", (), {"total": 16 * 2**30, "available": 3 * 2**30})()
    monkeypatch.setattr(devices.psutil, "virtual_memory", lambda: reading)
    assert devices.total_memory_bytes("cpu") == 16 * 2**30
    assert devices.available_memory_bytes("cpu") == 3 * 2**30


def test_autocast_per_precision():
    cpu = torch.device("cpu")
    a, b = torch.randn(4, 4), torch.randn(4, 4)
    with devices.autocast(cpu, "fp32"):
        assert (a @ b).dtype == torch.float32
    with devices.autocast(cpu, "auto"):  # auto means fp32 on the CPU
        assert (a @ b).dtype == torch.float32
    with devices.autocast(cpu, "bf16"):
        assert (a @ b).dtype == torch.bfloat16
    with pytest.raises(InvalidSpecError, match="bf16"):
        devices.autocast(cpu, "fp16")
    assert devices.resolve_precision(cpu, "auto") == "fp32"


def test_choose_num_threads_sets_torch_and_keeps_a_core_free(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(devices, "_chosen_threads", None)
    try:
        calls = []
        chosen = devices.choose_num_threads(step=lambda: calls.append(torch.get_num_threads()))
        assert 1 <= chosen <= max(1, devices.cpu_cores() - 1)
        assert torch.get_num_threads() == chosen
        assert devices.choose_num_threads() == chosen  # decided once per process
        monkeypatch.setattr(devices, "cpu_cores", lambda: 6)  # 1, 2, 4, 5 threads are tried
        monkeypatch.setattr(devices, "_chosen_threads", None)
        calls.clear()
        chosen = devices.choose_num_threads(step=lambda: calls.append(torch.get_num_threads()))
        assert sorted(set(calls)) == [1, 2, 4, 5] and chosen in (1, 2, 4, 5)
        assert devices.choose_num_threads(probe=False, step=lambda: None) == 5
        assert devices.choose_num_threads(probe=False, step=lambda: None, keep_free=0) == 6
    finally:
        torch.set_num_threads(before)


def test_compile_is_off_by_default_and_falls_back_to_the_plain_model(monkeypatch):
    model = torch.nn.Linear(3, 2)
    assert devices.compile_model(model) is model

    class Broken:
        def __call__(self, *args, **kwargs):
            raise RuntimeError("no C++ compiler")

    monkeypatch.setattr(torch, "compile", lambda module: Broken())
    monkeypatch.delenv("TORCHDYNAMO_DISABLE", raising=False)
    wrapped = devices.compile_model(model, enabled=True)
    assert isinstance(wrapped, devices.CompiledOrEager)
    assert list(wrapped.state_dict()) == ["module.weight", "module.bias"]
    x = torch.randn(4, 3)
    torch.testing.assert_close(wrapped(x), model(x))
    assert "no C++ compiler" in wrapped.error
