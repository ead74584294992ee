"""trainers.distributed without torchrun (one process: every collective answers locally, nothing is opened), and
the pieces that decide devices, names and which failures are a lost rank."""

import dataclasses
import re
import time

import pytest
import torch
import torch.distributed as dist

from trainers.distributed import (Ranks, RankLost, device_for_rank, first_line, join, launched_by_torchrun,
                                  opened_a_group, program_name)
from trainers.heartbeat import Heartbeat
from trainers.errors import JobError

GLOO_RESET = ("[/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:537] Read error [127.0.0.1]:4496: Connection "
              "reset by peer. This is typically caused by a remote worker hanging or bugs in the application.")


@pytest.fixture
def no_torchrun(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)


def test_without_torchrun_a_run_is_one_process_and_opens_nothing(no_torchrun):
    ranks, device = join(torch.device("cpu"), timeout_s=1)
    assert not launched_by_torchrun() and ranks == Ranks() and device == torch.device("cpu")
    assert not dist.is_initialized() and not opened_a_group()  # (so the CLI returns normally, no os._exit)
    assert (ranks.rank, ranks.world, ranks.leader, ranks.active) == (0, 1, True, False)
    assert program_name() == "r2l-train"


def test_one_process_collectives_answer_with_the_local_values():
    ranks = Ranks()
    assert ranks.agree(True, 3, 2.5) == (True, [3.0, 2.5]) and ranks.agree(False) == (False, [])
    assert ranks.any(False) is False and ranks.sum([1, 2]) == [1.0, 2.0]
    assert ranks.gather({"a": 1}) == [{"a": 1}] and ranks.broadcast("x") == "x"
    ranks.barrier()
    assert ranks.leader_does(lambda: 42) == 42
    with pytest.raises(JobError, match="disk full"):
        ranks.leader_does(lambda: (_ for _ in ()).throw(JobError("disk full")))
    with ranks.watch("anything"), pytest.raises(RuntimeError, match="Connection reset"):  # not turned into RankLost
        raise RuntimeError(GLOO_RESET)


@pytest.fixture
def two_hearts():
    """Ranks 0 and 1 beating in a real store (as torchrun's), quickly; rank 1's Ranks, which reads rank 0's beat."""
    store = dist.TCPStore("127.0.0.1", 0, 1, True, wait_for_workers=False)
    hearts = [Heartbeat(store, rank, 2, ("127.0.0.1", store.port), beat_s=0.02) for rank in (0, 1)]
    yield hearts, Ranks(rank=1, world=2, timeout_s=20, heartbeat=hearts[1])
    for heart in hearts:
        heart.stop()


def test_an_ordinary_error_is_itself_whatever_its_words(two_hearts):
    _, ranks = two_hearts
    for words in (GLOO_RESET, "Timed out reading the Socket of my own file", "NCCL ProcessGroup gloo timed out"):
        with pytest.raises(RuntimeError, match="^" + re.escape(words) + "$"), ranks.watch("a step"):
            raise RuntimeError(words)  # the peer still beats: not a lost rank, whatever the message says


def test_a_peer_whose_heartbeat_stopped_is_a_lost_rank_in_one_sentence(two_hearts):
    (peer, _), ranks = two_hearts
    peer.stop()  # rank 0 died: its count stands still
    with pytest.raises(RankLost) as lost, ranks.watch("averaging the gradients"):
        raise RuntimeError(GLOO_RESET)
    message = str(lost.value)
    assert message.startswith("another rank stopped answering while averaging the gradients (it died, hung or failed; "
                              "waited at most 20 s): Read error [127.0.0.1]:4496: Connection reset by peer.")
    assert message.endswith("run the same command with --resume") and "GLHF" not in message


def test_torchs_own_failure_types_and_a_spent_timeout_are_lost_ranks(two_hearts):
    _, ranks = two_hearts
    with pytest.raises(RankLost), ranks.watch("a step"):
        raise dist.DistNetworkError("store gone")
    hurried = dataclasses.replace(ranks, timeout_s=0.05)
    with pytest.raises(RankLost, match="waited at most 0.05 s"), hurried.watch("waiting for rank 0"):
        time.sleep(0.06)  # as long as the collective's timeout: it ran out
        raise RuntimeError("something")
    assert first_line(RuntimeError("Timed out waiting 8000ms for recv operation to complete")) == (
        "Timed out waiting 8000ms for recv operation to complete")


def test_a_store_that_is_gone_means_every_peer_is_lost():
    store = dist.TCPStore("127.0.0.1", 0, 1, True, wait_for_workers=False)
    client = dist.TCPStore("127.0.0.1", store.port, 1, False)
    heart = Heartbeat(client, 1, 2, ("127.0.0.1", store.port), beat_s=0.02)
    del store  # its host is gone
    assert heart.silent_peers() is None and not heart.store_reachable()
    heart.stop()


def test_ranks_other_than_0_name_themselves(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert launched_by_torchrun() and program_name() == "r2l-train [rank 1 of 2]"
    monkeypatch.setenv("RANK", "0")
    assert program_name() == "r2l-train"  # rank 0 speaks for the run


def test_each_rank_trains_on_the_gpu_of_its_local_rank():
    assert device_for_rank(torch.device("cpu"), 3) == torch.device("cpu")
    with pytest.raises(JobError, match=r"--device cuda:1: under torchrun each process uses the GPU of its local rank "
                                       r"\(this one: cuda:0\); give --device cuda or auto"):
        device_for_rank(torch.device("cuda", 1), 0)
