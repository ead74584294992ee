"""The hard-example pool keeps each pooled ray whole: its origin, direction, colour (and depth) come from one ray."""

import torch

from trainers.training.hard_examples import HardExamplePool
from trainers.training.views import RayBatch


def _batch(n: int, offset: int) -> RayBatch:
    ids = torch.arange(offset, offset + n, dtype=torch.float32)[:, None]
    return RayBatch(ids.repeat(1, 3), ids.repeat(1, 3) + 0.5, (ids.repeat(1, 3) / 1000.0))


def _assert_whole_rays(pool: HardExamplePool) -> torch.Tensor:
    ids = pool.origins[:, 0]
    assert torch.equal(pool.origins, ids[:, None].repeat(1, 3))
    assert torch.equal(pool.directions, pool.origins + 0.5)
    assert torch.allclose(pool.rgb, pool.origins / 1000.0)
    return ids


def test_an_add_larger_than_the_pool_keeps_whole_rays():
    pool = HardExamplePool(capacity=5)
    batch = _batch(20, 0)
    errors = torch.arange(20, dtype=torch.float32)  # ray k has error k: the worst are 19, 18, ...
    pool.add(batch, errors, fraction=1.0)  # 20 hard rays into 5 places
    ids = _assert_whole_rays(pool)
    assert len(pool) == 5 and len(set(ids.tolist())) == 5
    pool.add(_batch(12, 100), torch.arange(12, dtype=torch.float32), fraction=0.75)  # 9 more, wrapping round
    _assert_whole_rays(pool)
    sample = pool.sample(64, torch.Generator().manual_seed(0))
    assert torch.equal(sample.directions, sample.origins + 0.5) and torch.allclose(sample.rgb, sample.origins / 1000.0)


def test_the_pool_fills_then_overwrites_its_oldest_entries():
    pool = HardExamplePool(capacity=4)
    worst_first = torch.tensor([3.0, 2.0, 1.0])
    pool.add(_batch(3, 0), worst_first, fraction=1.0)
    pool.add(_batch(3, 10), worst_first, fraction=1.0)
    assert _assert_whole_rays(pool).tolist() == [11.0, 12.0, 2.0, 10.0]


class RepeatedIndexWrites(torch.Tensor):
    """A tensor that fails on a write through repeated indices: which value lands there is not defined (it
    differs between devices and between the origins, directions and colours written one after another)."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func is torch.Tensor.__setitem__ and isinstance(args[1], torch.Tensor) and args[1].dtype == torch.long:
            assert args[1].unique().numel() == args[1].numel(), "a write through repeated ring positions"
        return super().__torch_function__(func, types, args, kwargs or {})


def test_no_write_goes_through_repeated_ring_positions():
    pool = HardExamplePool(capacity=5)
    for name in ("origins", "directions", "rgb"):
        setattr(pool, name, getattr(pool, name).as_subclass(RepeatedIndexWrites))
    pool.add(_batch(3, 0), torch.ones(3), fraction=1.0)
    pool.add(_batch(40, 100), torch.arange(40, dtype=torch.float32), fraction=0.5)  # 20 rows, 5 places, 3 taken
    assert sorted(_assert_whole_rays(pool).tolist()) == [135.0, 136.0, 137.0, 138.0, 139.0]  # the worst five


def _batch_with_depth(n: int, offset: int) -> RayBatch:
    batch = _batch(n, offset)
    batch.depth = batch.origins[:, 0] / 100.0 + 2.0  # ray k's depth: 2 + k / 100
    return batch


def test_pooled_rays_keep_their_target_depth_and_old_states_load():
    pool = HardExamplePool(capacity=6)
    pool.add(_batch_with_depth(10, 0), torch.arange(10, dtype=torch.float32), fraction=1.0)
    pool.add(_batch_with_depth(4, 50), torch.arange(4, dtype=torch.float32), fraction=1.0)  # wraps round
    ids = _assert_whole_rays(pool)
    assert torch.allclose(pool.depth, ids / 100.0 + 2.0)
    sample = pool.sample(32, torch.Generator().manual_seed(0))
    assert torch.allclose(sample.depth, sample.origins[:, 0] / 100.0 + 2.0)
    again = HardExamplePool(capacity=6)
    again.load_state_dict(pool.state_dict())
    assert torch.equal(again.depth, pool.depth)
    old = {k: v for k, v in pool.state_dict().items() if k != "depth"}  # saved before students had depth
    again.load_state_dict(old)
    assert again.depth is None and again.sample(4, torch.Generator()).depth is None
