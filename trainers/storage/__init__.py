"""Files a run keeps on disk: its workspace, the scene checkpoint's entries, pseudo-data shards, resume."""
