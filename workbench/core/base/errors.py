"""Errors a user can act on.

Every `WorkbenchError` carries a message that says what is wrong and what to do. The command line
prints it as one `error: ...` line and exits 2; the GUI shows it in a dialog. Anything else that
escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """A problem with the user's input or environment, explained in plain words."""


class CancelledError(WorkbenchError):
    """The user stopped a long operation; nothing was saved."""


class NotAProjectError(WorkbenchError):
    pass


class NewerSchemaError(WorkbenchError):
    pass


class ReadOnlyProjectError(WorkbenchError):
    pass


class CorruptProjectError(WorkbenchError):
    pass


class OutsideProjectError(CorruptProjectError):
    """A path stored in the project (database row, checkpoint manifest) leads outside its folder."""


class ProjectLockedError(WorkbenchError):
    pass


class RunInUseError(WorkbenchError):
    """Another live process is training the run (it holds the run's lock)."""


class NotFoundError(WorkbenchError):
    """A named dataset, tokenizer, run or checkpoint does not exist in the project."""


class ImportFailedError(WorkbenchError):
    """A file could not be imported (encoding, format, empty, binary...)."""


class InvalidSpecError(WorkbenchError):
    """A setting is out of range or inconsistent with another one."""


class DiskFullError(WorkbenchError):
    """A write failed because the disk (or the user's quota) is full; says how much was needed."""
