"""Which views each rank renders: decided by view number alone, every view by exactly one rank, shards where an
uninterrupted one-process run puts them."""

import pytest

from trainers.jobs.pseudo import share_of, view_runs


def test_views_fall_into_shards_of_whole_blocks():
    assert view_runs(list(range(8)), 3) == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert view_runs([4, 5, 6, 7, 8, 12], 3) == [[4, 5], [6, 7, 8], [12]]  # the rest of a stopped block first


@pytest.mark.parametrize("world", [1, 2, 3, 5])
def test_every_view_is_rendered_by_one_rank_into_the_same_shard_whatever_the_world_size(world):
    runs = view_runs([v for v in range(40) if v not in (5, 6, 17)], 4)
    shares = [share_of(runs, 4, rank, world) for rank in range(world)]
    assert sorted(run for share in shares for run in share) == sorted(runs)  # each run once: disjoint, complete
    for rank, share in enumerate(shares):
        assert all((run[0] // 4) % world == rank for run in share)
