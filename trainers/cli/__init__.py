"""The console scripts: `r2l-train` (also `python -m trainers.cli`), `r2l-eval`, `r2l-bench`, with their flags."""
