"""The checkpoint retention policy (issue 13 point 1): pure, so checked with hypothesis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.project.retention import GB, Held, RetentionPolicy, plan_removals


@st.composite
def histories(draw) -> list[Held]:
    steps = draw(st.lists(st.integers(0, 100_000), min_size=0, max_size=40, unique=True))
    return [Held(step, draw(st.integers(0, 5000)), protected=draw(st.booleans())) for step in sorted(steps)]


budgets = st.integers(0, 60_000)


@settings(max_examples=300, deadline=None)
@given(histories(), budgets)
def test_protected_checkpoints_always_stay(held, budget):
    removed = plan_removals(held, RetentionPolicy("auto", budget))
    assert not {h.step for h in held if h.protected} & set(removed)
    assert len(set(removed)) == len(removed) and set(removed) <= {h.step for h in held}


@settings(max_examples=300, deadline=None)
@given(histories(), budgets)
def test_thinning_stops_under_the_budget_and_not_before(held, budget):
    removed = plan_removals(held, RetentionPolicy("auto", budget))
    size = {h.step: h.size_bytes for h in held}
    kept = sum(size.values()) - sum(size[s] for s in removed)
    left_unprotected = [h for h in held if not h.protected and h.step not in removed]
    assert kept < budget or not left_unprotected  # under the budget, or nothing more may go
    if removed:  # minimal: before the last removal the history was still at or over the budget
        assert kept + size[removed[-1]] >= budget


@settings(max_examples=200, deadline=None)
@given(histories())
def test_keep_all_and_under_the_budget_remove_nothing(held):
    assert plan_removals(held, RetentionPolicy("all", 0)) == []
    total = sum(h.size_bytes for h in held)
    assert plan_removals(held, RetentionPolicy("auto", total + 1)) == []


def test_a_budget_of_zero_keeps_only_latest_best_and_pinned():
    held = [Held(10, 0, protected=True), Held(20, 0), Held(30, 0), Held(40, 0, protected=True)]
    assert sorted(plan_removals(held, RetentionPolicy("auto", 0))) == [20, 30]


def _simulate(evals: int, every: int, fits: int) -> list[int]:
    """Apply the policy after each of `evals` equal checkpoints, as the recorder does; `fits` fit under the budget."""
    kept: list[int] = []
    policy = RetentionPolicy("auto", fits * 100 + 1)  # strictly under: `fits` checkpoints of 100 bytes
    for step in range(every, evals * every + 1, every):
        kept.append(step)
        doomed = plan_removals([Held(s, 100, protected=s == step) for s in kept], policy)
        kept = [s for s in kept if s not in doomed]
    return kept


def test_older_history_is_kept_at_exponentially_growing_spacing():
    kept = _simulate(evals=1000, every=10, fits=12)
    assert len(kept) == 12
    assert kept[0] == 10 and kept[-1] == 10_000  # the start of the run and the newest both stay
    assert kept[-2:] == [9990, 10_000]  # the last evaluations all stay
    gaps = [b - a for a, b in zip(kept, kept[1:], strict=False)][::-1]  # newest first
    assert gaps[0] == 10 and gaps[-1] > 100 * gaps[0]  # older history: spacing far wider
    # growing spacing: each gap is at least the gap two places newer (allowing the drift of one step)
    assert all(gaps[i] >= gaps[i - 2] for i in range(2, len(gaps))), gaps


def test_policy_from_a_stored_train_spec():
    assert RetentionPolicy.from_train_spec({}) == RetentionPolicy("auto", 2 * GB)
    assert RetentionPolicy.from_train_spec(None) == RetentionPolicy()
    assert RetentionPolicy.from_train_spec({"keep_checkpoints": "all"}).keep == "all"
    assert RetentionPolicy.from_train_spec({"checkpoint_budget_gb": 0.5}).budget_bytes == GB // 2
    # a hand-edited row never turns into "delete everything"
    for bad in ({"checkpoint_budget_gb": -1}, {"checkpoint_budget_gb": "x"}, {"keep_checkpoints": "none"},
                {"checkpoint_budget_gb": float("nan")}):
        assert RetentionPolicy.from_train_spec(bad) == RetentionPolicy()
