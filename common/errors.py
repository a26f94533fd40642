"""The one error family every layer raises: a message that names the problem and the fix."""


class RehearsalError(Exception):
    """Base of every error the tool reports to a user as one line (the CLI exits 2)."""


class BadInput(RehearsalError):
    """An argument, file or option the user gave cannot be used."""


class ServerUnavailable(RehearsalError):
    """PostgreSQL cannot be reached or started."""


class NotOurDatabase(RehearsalError):
    """A write was asked of a database this tool did not create and mark."""


class NotEnoughDisk(RehearsalError):
    """The free disk space is below what the requested work needs."""
