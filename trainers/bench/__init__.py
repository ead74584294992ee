"""`r2l-bench`'s measurements, verdicts on the targets, and table (its command line is `trainers.cli.bench`)."""
