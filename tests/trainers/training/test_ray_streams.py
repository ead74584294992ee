"""Ray streams: stream 0 is the run's own stream, the others independent; ranks share the streams evenly; counts
that do not split evenly are refused with what to give instead."""

import pytest
import torch

from trainers.errors import JobError
from trainers.training.ray_streams import make_streams, per_stream, saved_streams, stream_count, stream_seed


def test_stream_0_is_seeded_with_the_run_seed_and_the_others_differ():
    assert stream_seed(7, 0) == 7
    seeds = {stream_seed(7, k) for k in range(1, 9)} | {stream_seed(8, k) for k in range(1, 9)}
    assert len(seeds) == 16 and 7 not in seeds and all(0 <= s < 2**64 for s in seeds)
    assert stream_seed(7, 3) == stream_seed(7, 3)  # a function of (seed, number) only


def test_each_rank_draws_its_own_streams_as_one_process_would():
    own = torch.Generator().manual_seed(5)
    everything = make_streams(5, 4, rank=0, world=1, hard_rays=8, first_generator=own)
    assert [s.index for s in everything] == [0, 1, 2, 3] and everything[0].generator is own
    assert everything[1].pool.capacity == 64  # 8 batches of this stream's hard rays
    ranks = [make_streams(5, 4, rank=r, world=2, hard_rays=8, first_generator=torch.Generator().manual_seed(5))
             for r in range(2)]
    assert [[s.index for s in streams] for streams in ranks] == [[0, 1], [2, 3]]
    for stream in (ranks[0][0], ranks[0][1], ranks[1][0], ranks[1][1]):  # the same draws wherever it lives
        same = everything[stream.index].generator
        assert torch.equal(torch.rand(4, generator=stream.generator), torch.rand(4, generator=same))


def test_stream_counts_follow_the_ranks_unless_given_or_saved():
    assert stream_count(0, None, 1, "--distill.ray_streams") == 1
    assert stream_count(0, None, 4, "--distill.ray_streams") == 4
    assert stream_count(0, 2, 1, "--distill.ray_streams") == 2  # a 2-rank run resumed on one process
    assert stream_count(4, None, 2, "--distill.ray_streams") == 4
    with pytest.raises(JobError, match="--distill.ray_streams gives 3 ray streams, which 2 ranks cannot share evenly"):
        stream_count(3, None, 2, "--distill.ray_streams")
    with pytest.raises(JobError, match="the interrupted run was saved with 2 ray streams, which 4 ranks cannot share "
                                       "evenly: run on a number of ranks that divides 2"):
        stream_count(0, 2, 4, "--distill.ray_streams")


def test_batches_split_evenly_or_say_what_to_give():
    assert per_stream(1024, 4, "--distill.batch_rays") == 256 and per_stream(0, 3, "--distill.hard_rays") == 0
    with pytest.raises(JobError, match=r"--distill.batch_rays 1000 does not split evenly over 3 ray streams \(one per "
                                       r"rank by default\): give a multiple of 3"):
        per_stream(1000, 3, "--distill.batch_rays")


def test_states_saved_with_one_stream_read_as_one_stream():
    old = {"generator": torch.Generator().get_state(), "pool": {"cursor": 0}}
    assert saved_streams(old) == [{"generator": old["generator"], "pool": {"cursor": 0}}]
    assert saved_streams(old | {"streams": [1, 2]}) == [1, 2]
