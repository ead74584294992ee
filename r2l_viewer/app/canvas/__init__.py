"""The live canvas and what it draws: the GL widget and its controller, overlay, legend, split divider, render
modes, fly keys and frame pacing."""
