"""A one-slot mailbox where the newest request wins: the render threads' queue (plain Python, no Qt)."""

from __future__ import annotations

import threading


class LatestMailbox:
    """`put` replaces any request not yet taken; `take` blocks until there is one (None once closed).

    Each request gets a serial number, so a worker can ask whether a newer one arrived while it was busy."""

    def __init__(self):
        self._cond = threading.Condition()
        self._item = None
        self._serial = 0
        self._closed = False

    def put(self, item) -> int:
        with self._cond:
            self._serial += 1
            self._item = (self._serial, item)
            self._cond.notify_all()
            return self._serial

    def take(self, timeout: float | None = None):
        """(serial, request), or None when closed (or when `timeout` passes with nothing to take)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._item is not None or self._closed, timeout):
                return None
            if self._closed:
                return None
            item, self._item = self._item, None
            return item

    def newer_than(self, serial: int) -> bool:
        """Whether a request newer than `serial` is waiting (or the mailbox closed): the current work is stale."""
        with self._cond:
            return self._closed or (self._item is not None and self._item[0] > serial)

    def pending(self):
        """The request waiting to be taken (None if none), without taking it."""
        with self._cond:
            return None if self._item is None else self._item[1]

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    @property
    def latest_serial(self) -> int:
        with self._cond:
            return self._serial

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
