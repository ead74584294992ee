"""The pipeline's jobs as generators yielding events, and `pipeline`, which runs them by name."""
