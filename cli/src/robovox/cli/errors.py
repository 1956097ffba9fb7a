"""The CLI's errors: each is said on one line (``robovox: ...``) and exits non-zero."""

from __future__ import annotations

from robovox.shared.errors import RoboVoxError


class CliError(RoboVoxError):
    """Base of every error the CLI says to its user instead of a traceback."""


class NotFoundError(CliError):
    """A robot, call or dead letter that Redis does not hold."""


class BadInputError(CliError):
    """An argument or option the CLI cannot use (a robot id, a stream name, a filter, a time)."""


class RedisUnavailableError(CliError):
    """Redis did not answer at the URL given."""


class ReplayRefusedError(CliError):
    """A dead letter that cannot be put back on its stream as it was."""
