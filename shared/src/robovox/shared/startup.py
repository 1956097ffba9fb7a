"""Start-up that fails fast, in one line a problem.

A setting that does not parse, a log level that does not exist or a profile
with a mistake stops the service before it does anything, with one line per
problem naming the variable (and the value it had) or the profile's file, line
and field: never a traceback for someone to dig the cause out of. A
``ROBOVOX_`` variable that no service reads is named as a warning, with the
setting it was probably meant to be: a misspelt variable is otherwise ignored
without a word.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from typing import TypeVar

from pydantic import ValidationError

from robovox.shared.errors import RoboVoxError
from robovox.shared.setting_names import OTHER_VARIABLES, SETTING_NAMES
from robovox.shared.settings import ENV_PREFIX, ServiceSettings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


class StartupError(RoboVoxError):
    """A service cannot start; the message has one line per problem."""


def settings_from_environment(cls: type[SettingsT]) -> SettingsT:
    """``cls()`` from the ``ROBOVOX_*`` variables, or ``StartupError`` with a line per bad one."""
    try:
        return cls()
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            if field:
                name = f"{ENV_PREFIX}{field.upper()}"
                lines.append(f"{name}={os.environ.get(name, error.get('input'))!r}: {message}")
            else:
                lines.append(message)
        raise StartupError("\n".join(lines)) from None


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each ``ROBOVOX_`` variable no RoboVox service reads, with the likeliest meant one."""
    env = os.environ if environ is None else environ
    known = SETTING_NAMES | OTHER_VARIABLES
    warnings = []
    for name in sorted(n for n in env if n.startswith(ENV_PREFIX) and n not in known):
        close = difflib.get_close_matches(name, sorted(SETTING_NAMES), n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(f"{name} is not a RoboVox setting{hint}; it is ignored")
    return warnings
