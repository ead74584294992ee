"""The core library (no Qt, no OpenGL): cameras and rays, datasets, models, rendering, metrics, scene checkpoints."""
