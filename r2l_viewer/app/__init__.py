"""The Qt application: window, OpenGL canvas, compare/train/info panels, and the threads that render and train."""
