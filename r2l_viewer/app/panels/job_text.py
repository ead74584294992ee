"""Job messages in the viewer's words: what they say to do with command-line options becomes what to do here."""

from __future__ import annotations

import re

CONTINUE = "start the same job again and choose to continue"
VIEWER_WORDS = (  # (pattern, replacement), in this order
    (r"stop this run now and run the same command with --resume", "stop this job now, then " + CONTINUE),
    (r"\s*\(or choose another --out\)", ""),
    (r",? or another --out", ""),
    (r"choose another --out", "open a scene in a folder you can write"),
    (r"(?:run the same command|run again|run|continue it) with --resume", CONTINUE),
    (r"run the same command", "start the same job again"),
    (r"run without --resume to (?:start over|render a new set)", "start the job again and choose to start over"),
    (r";? ?`--resume` continues such a set instead of starting over", ""),
    (r"--distill\.online true", "the Distill setting 'online' on"),
    (r"--teacher\.settle_db", "the Teacher setting 'settle_db'"),
)


def in_viewer_words(text: str) -> str:
    """A job's message with the command-line advice it gives (--out, --resume) said for the viewer."""
    for pattern, replacement in VIEWER_WORDS:
        text = re.sub(pattern, replacement, text)
    return text
