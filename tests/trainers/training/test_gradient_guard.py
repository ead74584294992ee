"""The outlier guard: ordinary steps pass untouched; a gradient far above the running average is scaled down to
the limit and halves the learning rate, once per episode."""

from __future__ import annotations

import torch

from trainers.training.gradient_guard import BACKOFF_GAP, WARMUP_STEPS, GradientGuard, gradient_norm


def parameters_with_gradient(norm: float, seed: int) -> list[torch.nn.Parameter]:
    """Two parameters whose gradients together have the given norm."""
    generator = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.zeros(5, 3)), torch.nn.Parameter(torch.zeros(7))]
    grads = [torch.randn(p.shape, generator=generator) for p in params]
    total = gradient_norm(grads)
    for p, g in zip(params, grads):
        p.grad = g * (norm / total)
    return params


def warmed_up(limit: float = 4.0, steps: int = WARMUP_STEPS) -> GradientGuard:
    guard = GradientGuard(limit)
    for k in range(steps):
        assert guard(parameters_with_gradient(1.0 + 0.5 * (k % 2), k)) is None
    return guard


def test_ordinary_steps_pass_with_their_gradients_untouched():
    guard = warmed_up()
    for seed, norm in enumerate((0.5, 1.0, 2.0, 3.5)):
        params = parameters_with_gradient(norm, seed)
        before = [p.grad.clone() for p in params]
        assert guard(params) is None
        assert all(torch.equal(p.grad, b) for p, b in zip(params, before))
    assert guard.rate_factor == 1.0


def test_a_gradient_far_above_the_running_average_is_scaled_down_and_halves_the_rate():
    guard = warmed_up()
    average = guard.average
    params = parameters_with_gradient(35.0 * average, 1)
    direction = [p.grad / (35.0 * average) for p in params]
    ratio = guard(params)
    assert abs(ratio - 35.0) < 1e-3
    assert abs(gradient_norm([p.grad for p in params]) - 4.0 * average) < 1e-4  # the limit, in the same direction
    assert all(torch.allclose(p.grad / (4.0 * average), d, atol=1e-6) for p, d in zip(params, direction))
    assert guard.rate_factor == 0.5
    assert guard.average < 1.05 * average  # counted at the limit, not at its own size


def test_an_episode_of_outliers_halves_the_rate_once_and_a_later_one_again():
    guard = warmed_up()
    for k in range(20):
        assert guard(parameters_with_gradient(50.0 * guard.average, 100 + k)) is not None
    assert guard.rate_factor == 0.5 and guard.outliers == 20
    for k in range(BACKOFF_GAP):
        guard(parameters_with_gradient(guard.average, 200 + k))
    guard(parameters_with_gradient(50.0 * guard.average, 999))
    assert guard.rate_factor == 0.25


def test_the_guard_waits_for_a_history_before_it_acts():
    guard = warmed_up(steps=WARMUP_STEPS - 1)
    assert guard(parameters_with_gradient(100.0, 3)) is None
    assert guard.rate_factor == 1.0
    assert guard(parameters_with_gradient(100.0, 4)) is not None  # its history complete, the next one counts
    assert guard.rate_factor == 0.5


def test_a_longer_learning_rate_warm_up_holds_the_guard_back_as_long():
    guard = GradientGuard(4.0, warmup_steps=2 * WARMUP_STEPS)
    for k in range(2 * WARMUP_STEPS - 1):
        guard(parameters_with_gradient(1.0, k))
    assert guard(parameters_with_gradient(100.0, 3)) is None
    assert guard(parameters_with_gradient(100.0, 4)) is not None


def test_a_limit_of_zero_turns_the_guard_off():
    guard = warmed_up(limit=0.0)
    params = parameters_with_gradient(1e6, 5)
    assert guard(params) is None
    assert abs(gradient_norm([p.grad for p in params]) - 1e6) < 1.0


def test_turned_off_after_a_halving_the_guard_gives_the_schedule_its_full_rate_back():
    guard = warmed_up()
    guard(parameters_with_gradient(50.0 * guard.average, 8))
    assert guard.learning_rate_factor == 0.5
    guard.limit = 0.0  # a run resumed with --distill.outlier_limit 0
    assert guard.learning_rate_factor == 1.0


def test_non_finite_gradients_are_left_as_they_are():
    guard = warmed_up()
    state = guard.state_dict()
    params = parameters_with_gradient(1.0, 6)
    params[0].grad[0, 0] = float("nan")
    before = [p.grad.clone() for p in params]
    assert guard(params) is None
    assert all(torch.allclose(p.grad, b, rtol=0, atol=0, equal_nan=True) for p, b in zip(params, before))
    assert guard.state_dict() == state  # not counted in the average either


def test_a_resumed_guard_decides_as_the_one_it_continues():
    first = warmed_up()
    first(parameters_with_gradient(30.0 * first.average, 7))
    second = GradientGuard(4.0)
    second.load_state_dict(first.state_dict())
    for seed, factor in enumerate((1.0, 20.0, 2.0, 40.0)):
        norm = factor * first.average
        assert first(parameters_with_gradient(norm, seed)) == second(parameters_with_gradient(norm, seed))
    assert first.state_dict() == second.state_dict()


def test_a_state_saved_before_the_guard_existed_starts_afresh_with_its_own_history():
    guard = warmed_up()
    guard(parameters_with_gradient(50.0 * guard.average, 9))
    guard.load_state_dict(None)
    assert guard.average is None and guard.rate_factor == 1.0
    for k in range(WARMUP_STEPS - 1):  # a resumed run's first steps build the history anew: no step judged yet
        assert guard(parameters_with_gradient(100.0 if k == 50 else 1.0, k)) is None
    assert guard.rate_factor == 1.0 and guard.outliers == 0
