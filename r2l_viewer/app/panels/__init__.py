"""The side panels: Compare, Train (settings forms and plots), Info and Path, and their small widgets."""
