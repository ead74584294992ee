"""Each rank's heartbeat in the process group's store: how the ranks tell a peer that died from an ordinary error.

Every rank counts up its own key in the store (the one torchrun's rendezvous made, shared by all ranks) once per
BEAT_S from a daemon thread. When a collective fails on one rank, it reads the others' counts, waits a few beats
and reads them again: a rank whose count stood still has stopped (killed, crashed), and a store that cannot be read
means the run itself is gone. A rank that is alive but stuck is caught by the collective's own timeout instead.
Before each use of the store its host is knocked on with a plain connection, so a host that is gone is told at once
(a store read would wait out its timeout, and torch prints a stack trace when one fails: see trainers/cli)."""

from __future__ import annotations

import socket
import threading
import time

BEAT_S = 0.5  # seconds between a rank's beats
SILENT_BEATS = 5  # a rank whose count did not move for this many beats has stopped


class Heartbeat:
    """Rank `rank` of `world` beating in `store` (any torch.distributed Store, served at `address` (host, port);
    None: not checked first) until `stop()`."""

    def __init__(self, store, rank: int, world: int, address: tuple[str, int] | None = None, beat_s: float = BEAT_S):
        self.store, self.rank, self.world, self.beat_s = store, rank, world, beat_s
        self.address = address
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"r2l-heartbeat-{rank}", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stopped.is_set():
            try:
                if not self.store_reachable():
                    return  # the store is gone (the run ended or its host died): nothing left to tell
                self.store.add(self._key(self.rank), 1)
            except Exception:
                return
            self._stopped.wait(self.beat_s)

    def _key(self, rank: int) -> str:
        return f"r2l-heartbeat/{rank}"

    def store_reachable(self) -> bool:
        """Whether the store's host still accepts connections (always True without an address)."""
        if self.address is None:
            return True
        try:
            with socket.create_connection(self.address, timeout=2.0):
                return True
        except OSError:
            return False

    def counts(self) -> list[int]:
        """Every other rank's count now (reading creates none; a rank that never beat reads 0)."""
        return [int(self.store.add(self._key(r), 0)) for r in range(self.world) if r != self.rank]

    def silent_peers(self) -> list[int] | None:
        """The other ranks whose count stood still over SILENT_BEATS beats; None when the store cannot be read
        (its host is gone: every peer is lost)."""
        others = [r for r in range(self.world) if r != self.rank]
        try:
            if not self.store_reachable():
                return None
            before = self.counts()
            time.sleep(SILENT_BEATS * self.beat_s)
            if not self.store_reachable():
                return None
            after = self.counts()
        except Exception:
            return None
        return [r for r, a, b in zip(others, before, after) if a == b]

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=2 * self.beat_s + 1.0)
