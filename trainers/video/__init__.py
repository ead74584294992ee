"""Videos along camera paths: the render job, its frames (side by side, labelled, depth in colour) and the files."""
