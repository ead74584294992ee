"""Every command-line job serves its large tensors from the heap (r2l_viewer.core.allocator) before doing anything."""

import pytest


@pytest.mark.parametrize("command", ["train", "eval", "render", "bench"])
def test_every_command_line_job_takes_the_setting_before_anything_else(command, monkeypatch):
    module = __import__(f"trainers.cli.{command}", fromlist=["main"])
    taken = []
    monkeypatch.setattr(module, "reuse_large_blocks", lambda: taken.append(True))
    with pytest.raises(SystemExit):
        module.main(["--no-such-flag"])
    assert taken == [True]
