"""The background workers: render and compare threads, job and video threads, and their mailbox."""
