"""The terminal progress display: a job that fails leaves its bar's line ended, so the error has a line of its own."""

import io

import pytest

from trainers.events import PROGRESS, Event
from trainers.cli.progress import ProgressPrinter
from trainers.errors import JobError


def _failing_job():
    for view in range(1, 4):
        yield Event("pseudo", PROGRESS, view, 10, rays_per_s=1000.0)
    raise JobError("no space left on device (disk full) writing shard_00004")


def test_a_failing_job_ends_the_bar_line_before_the_error():
    stream = io.StringIO()
    printer = ProgressPrinter(stream=stream)
    with pytest.raises(JobError):
        printer.consume(_failing_job())
    assert printer.bar is None  # closed: nothing redraws over what is printed next
    assert stream.getvalue().endswith("\n") and "3/10" in stream.getvalue().splitlines()[-1]
