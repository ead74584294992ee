"""R2L Viewer: distil a NeRF into a fast residual neural light field, and watch, train and compare both live."""

__version__ = "0.1.0"
