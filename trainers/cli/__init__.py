"""The console scripts: `r2l-train` (also `python -m trainers.cli`), `r2l-eval`, `r2l-bench`, with their flags."""

import os

if "RANK" in os.environ and "WORLD_SIZE" in os.environ:  # a torchrun rank; torch is not imported yet
    # When a rank dies, torch's C++ side prints a stack trace for each failed read of the process group's store;
    # the surviving ranks' own one-line message says what happened (trainers/heartbeat.py). Errors still show.
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
