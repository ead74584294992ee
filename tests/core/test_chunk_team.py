"""The CPU chunk team: results in order, single-threaded workers that leave everyone else's thread count alone,
abandoning between chunks."""

import threading

import pytest
import torch

from r2l_viewer.core.chunk_team import ChunkTeam, map_chunks


@pytest.fixture
def team():
    team = ChunkTeam(2)
    yield team
    team.close()


def test_results_come_back_in_chunk_order(team):
    data = torch.randn(1000, 16)
    weight = torch.randn(16, 4)
    chunks = [data[s : s + 64] for s in range(0, 1000, 64)]
    parts = team.map(lambda chunk: chunk @ weight, chunks)
    assert torch.allclose(torch.cat(parts), data @ weight, atol=1e-5)


def test_workers_run_single_threaded_and_leave_other_threads_alone():
    before = torch.get_num_threads()
    if before < 2:
        torch.set_num_threads(2)
    try:
        expected = torch.get_num_threads()
        team = ChunkTeam(2)
        assert team.map(lambda _: torch.get_num_threads(), range(6)) == [1] * 6
        assert torch.get_num_threads() == expected
        later = []
        thread = threading.Thread(target=lambda: later.append(torch.get_num_threads()))
        thread.start()
        thread.join()
        assert later == [expected], "a thread started after the team must not inherit its single thread"
        team.close()
    finally:
        torch.set_num_threads(before)


def test_abandon_stops_before_the_remaining_chunks(team):
    ran = []
    lock = threading.Lock()

    def work(index):
        with lock:
            ran.append(index)
        return index

    assert team.map(work, range(50), abandon=lambda: len(ran) >= 3) is None
    assert len(ran) < 50
    assert team.map(work, range(5), abandon=lambda: False) == list(range(5))


def test_a_team_needs_a_worker():
    with pytest.raises(ValueError, match="at least one worker"):
        ChunkTeam(0)


def test_map_chunks_without_a_team_runs_here_and_abandons_alike(team):
    assert map_chunks(lambda x: x * 2, range(4)) == [0, 2, 4, 6]
    assert map_chunks(lambda x: x * 2, range(4), team=team) == [0, 2, 4, 6]
    calls = []
    assert map_chunks(lambda x: x, range(10), abandon=lambda: calls.append(1) or len(calls) > 3) is None
    assert len(calls) == 4
