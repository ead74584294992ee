"""The trainers' user-error type, below every job and the storage and rank helpers that raise it."""

from r2l_viewer.core.errors import UserError


class JobError(UserError):
    """A job cannot run as asked; the message says why and what to do."""
