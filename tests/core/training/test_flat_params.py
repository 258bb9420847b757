"""Packed parameters: the model trains exactly as with its own tensors, and old optimizer states still load."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
import torch
from training_helpers import MODEL_SPEC

from workbench.core.base.specs import ModelSpec, TrainSpec
from workbench.core.models.modeling import build_model, compute_loss, save_model_dir
from workbench.core.training.flat_params import FlatParameters
from workbench.core.training.optim import clip_gradients, make_optimizer, zero_gradients

SPEC = replace(MODEL_SPEC, dropout=0.0)
TRAIN = TrainSpec(lr=3e-3, weight_decay=0.1)


def _model(spec: ModelSpec = SPEC) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(spec)


def _batches(n: int, spec: ModelSpec = SPEC) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    return [torch.randint(0, spec.vocab_size, (4, spec.block_size + 1), generator=gen) for _ in range(n)]


def _train(model, optimizer, batches, flat=None, clip=0.5, spec=SPEC) -> list[float]:
    losses = []
    for ids in batches:
        loss = compute_loss(model, spec, ids, mask_token_id=spec.vocab_size - 1 if spec.arch == "bert" else None)
        loss.backward()
        clip_gradients(model, clip, optimizer=optimizer, flat=flat)
        optimizer.step()
        zero_gradients(optimizer, flat)
        losses.append(loss.item())
    return losses


def test_packed_parameters_are_views_of_one_buffer_and_tied_weights_appear_once():
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flat = FlatParameters.pack(model, 0.1)
    assert flat is not None
    params = list(model.parameters())
    assert flat.data.numel() == sum(p.numel() for p in params)  # the tied lm_head is wte, counted once
    base = flat.data.untyped_storage().data_ptr()
    assert all(p.untyped_storage().data_ptr() == base for p in params)
    assert all(p.grad.untyped_storage().data_ptr() == flat.grad.untyped_storage().data_ptr() for p in params)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert model.lm_head.weight is model.transformer.wte.weight
    assert [g["weight_decay"] for g in flat.optimizer_groups()] == [0.1, 0.0]
    assert flat.flat[0].numel() == sum(p.numel() for p in params if p.dim() >= 2)


@pytest.mark.parametrize("clip", [0.0, 0.5])
def test_packed_training_matches_per_tensor_training(clip):
    batches = _batches(6)
    plain = _model()
    plain_losses = _train(plain, make_optimizer(plain, TRAIN), batches, clip=clip)
    packed = _model()
    flat = FlatParameters.pack(packed, TRAIN.weight_decay)
    packed_losses = _train(packed, make_optimizer(packed, TRAIN, flat=flat), batches, flat=flat, clip=clip)
    if clip == 0:  # the same AdamW arithmetic element by element: equal to the last bit
        assert packed_losses == plain_losses
        for (name, a), b in zip(plain.state_dict().items(), packed.state_dict().values(), strict=True):
            assert torch.equal(a, b), name
    else:
        # clipping's global norm is summed in another order, so the gradients differ in the last bits;
        # Adam's first steps turn a near-zero gradient's sign into a full +-lr step, so weights are not
        # compared element by element, the losses are
        assert packed_losses == pytest.approx(plain_losses, abs=1e-5)


def test_clip_matches_torch_and_reports_the_norm_before_clipping():
    model, reference = _model(), _model()
    flat = FlatParameters.pack(model, 0.0)
    ids = _batches(1)[0]
    for m in (model, reference):
        (compute_loss(m, SPEC, ids) * 50).backward()
    expected = torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.1)
    norm = flat.clip_(0.1)
    assert float(norm) == pytest.approx(float(expected), rel=1e-5)
    assert float(norm) > 0.1
    assert float(torch.linalg.vector_norm(flat.grad)) == pytest.approx(0.1, rel=1e-4)
    for a, b in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.allclose(a.grad, b.grad, atol=1e-7)


def test_a_gradient_dropped_elsewhere_is_put_back_before_the_step():
    model = _model()
    flat = FlatParameters.pack(model, 0.0)
    model.zero_grad(set_to_none=True)  # what an outside helper may do (the OOM probe does)
    compute_loss(model, SPEC, _batches(1)[0]).backward()
    fresh = [p.grad.clone() for p in model.parameters()]
    assert float(flat.grad.abs().sum()) == 0.0  # backward wrote new tensors, not the buffer
    flat.reattach_grads()
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), fresh, strict=True))
    assert float(flat.grad.abs().sum()) == pytest.approx(sum(float(g.abs().sum()) for g in fresh), rel=1e-5)


def test_an_optimizer_state_saved_per_tensor_continues_exactly_when_packed():
    batches = _batches(6)
    plain = _model()
    optimizer = make_optimizer(plain, TRAIN)
    _train(plain, optimizer, batches[:3])
    saved_weights = {k: v.clone() for k, v in plain.state_dict().items()}
    saved_state = copy.deepcopy(optimizer.state_dict())  # state_dict() hands out the live tensors
    expected = _train(plain, optimizer, batches[3:])  # the uninterrupted per-tensor run

    resumed = _model()
    resumed.load_state_dict(saved_weights)
    flat = FlatParameters.pack(resumed, TRAIN.weight_decay)
    packed_optimizer = make_optimizer(resumed, TRAIN, flat=flat)
    packed_optimizer.load_state_dict(flat.unpack_optimizer_state(saved_state))
    assert _train(resumed, packed_optimizer, batches[3:], flat=flat) == pytest.approx(expected, abs=1e-6)
    # and a packed state passes through unchanged
    again = flat.unpack_optimizer_state(packed_optimizer.state_dict())
    assert torch.equal(again["state"][0]["exp_avg"], packed_optimizer.state_dict()["state"][0]["exp_avg"])


def test_a_state_for_another_model_is_refused():
    small, other = _model(), _model(replace(SPEC, n_embd=16))
    optimizer = make_optimizer(other, TRAIN)
    _train(other, optimizer, _batches(1), spec=replace(SPEC, n_embd=16))
    flat = FlatParameters.pack(small, 0.1)
    with pytest.raises(ValueError, match="does not match"):
        flat.unpack_optimizer_state(optimizer.state_dict())


def test_recurrent_and_mixed_dtype_models_are_not_packed():
    lstm = build_model(ModelSpec(arch="lstm", n_layer=1, n_embd=16, block_size=8, vocab_size=20))
    assert FlatParameters.pack(lstm, 0.1) is None
    mixed = _model()
    mixed.transformer.ln_f.half()
    assert FlatParameters.pack(mixed, 0.1) is None


@pytest.mark.parametrize("arch", ["gpt2", "llama", "bert"])
def test_a_packed_model_saves_and_loads(tmp_path, arch):
    from workbench.core.models.modeling import load_model_dir

    spec = replace(SPEC, arch=arch, n_head=2, n_kv_head=1) if arch == "llama" else replace(SPEC, arch=arch)
    model = _model(spec)
    flat = FlatParameters.pack(model, 0.1)
    assert flat is not None
    _train(model, make_optimizer(model, TRAIN, flat=flat), _batches(2, spec), flat=flat, spec=spec)
    save_model_dir(model, spec, tmp_path / "m")
    loaded, _ = load_model_dir(tmp_path / "m", for_training=True)
    original = model.state_dict()
    for name, value in loaded.state_dict().items():
        assert torch.equal(value, original[name]), name


def test_a_parameter_that_had_no_gradient_starts_with_zero_moments_in_an_old_state():
    model = _model()
    optimizer = make_optimizer(model, TRAIN)
    _train(model, optimizer, _batches(2))
    state = copy.deepcopy(optimizer.state_dict())
    matrices = state["param_groups"][0]["params"]
    del state["state"][matrices[1]]  # as if that parameter never had a gradient
    flat = FlatParameters.pack(_model(), TRAIN.weight_decay)
    packed = flat.unpack_optimizer_state(state)
    sizes = flat.sizes[0]
    start = sizes[0]
    moments = packed["state"][0]["exp_avg"]
    assert moments.numel() == flat.flat[0].numel()
    assert float(moments[start:start + sizes[1]].abs().sum()) == 0.0
    assert float(moments[:start].abs().sum()) > 0.0
    assert float(packed["state"][0]["step"]) == 2.0
