"""Reading and checking the JSON files of scene formats, with errors that name the file and the field."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .base import DatasetError


def json_kind(value) -> str:
    """How JSON would call a value, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return "a list" if isinstance(value, list) else "an object"


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def matrix_problem(matrix) -> str | None:
    """What keeps `matrix` from being 4 rows of 4 finite numbers, or None when it is one."""
    if not isinstance(matrix, list) or len(matrix) != 4:
        return f"got {json_kind(matrix)}" + (f" of {len(matrix)} rows" if isinstance(matrix, list) else "")
    for r, row in enumerate(matrix):
        if not isinstance(row, list) or len(row) != 4:
            return f"row {r} is {json_kind(row)}" + (f" of {len(row)} entries" if isinstance(row, list) else "")
        for c, entry in enumerate(row):
            if not is_number(entry):
                return f"row {r}, entry {c} is {json_kind(entry)}"
    return None


def frame_problem(frame) -> str | None:
    """What is wrong with one entry of 'frames' (it needs 'file_path' and a 4x4 'transform_matrix'), or None."""
    if not isinstance(frame, dict):
        return f"is {json_kind(frame)}, expected an object with 'file_path' and 'transform_matrix'"
    for key in ("file_path", "transform_matrix"):
        if key not in frame:
            return f"has no '{key}'"
    if not isinstance(frame["file_path"], str) or not frame["file_path"].strip():
        return f"'file_path' must be the image's path as a string, got {json_kind(frame['file_path'])}"
    problem = matrix_problem(frame["transform_matrix"])
    return None if problem is None else f"'transform_matrix' must be 4 rows of 4 numbers; {problem}"


def read_json(path: Path, missing_hint: str) -> object:
    """A JSON file's content; a DatasetError when it is missing (with `missing_hint`), not text, or malformed."""
    if not path.is_file():
        raise DatasetError(f"{path}: file not found ({missing_hint})")
    try:
        return json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: malformed JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a text file; expected JSON") from None
