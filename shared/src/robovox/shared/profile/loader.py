"""Load robot profiles from YAML with errors that name the file, line and field."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from robovox.shared.errors import RoboVoxError
from robovox.shared.profile.schema import FieldProblem, RobotProfile


class ProfileError(RoboVoxError, ValueError):
    """A profile that cannot be used; the message names file, line and field."""


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a 1-based line."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                break
            line = pair[0].start_mark.line + 1  # the key's line: its value may start below it
            node = pair[1]
            continue
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_environment(text: str, source: str, environ: Mapping[str, str] | None = None) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}`` as docker compose does; line numbers stay."""
    env = os.environ if environ is None else environ
    lines = []
    for number, line in enumerate(text.split("\n"), start=1):

        def value(match: re.Match[str], number: int = number) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ProfileError(f"{source}:{number}: environment variable {name} is not set and has no default")

        lines.append(_ENV_REF.sub(value, line))
    return "\n".join(lines)


def parse_profile(text: str, source: str = "<profile>") -> RobotProfile:
    text = expand_environment(text, source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ProfileError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile is a YAML mapping (robot_id: ..., tools: ...)")
    try:
        return RobotProfile.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            problem = err.get("ctx", {}).get("error")
            if isinstance(problem, FieldProblem):  # a rule across sections, placed at its own field
                loc = (*loc, *problem.loc)
                err["msg"] = str(problem)
            field = ".".join(str(p) for p in loc) or "(profile)"
            line = _line_of(root, loc)
            where = f"{source}:{line}" if line else source
            lines.append(f"{where}: {field}: {err['msg']}")
        raise ProfileError("\n".join(lines)) from None


def load_profile(path: Path) -> RobotProfile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_profile(text, str(path))


def load_profiles(folder: Path) -> dict[str, RobotProfile]:
    """Every ``*.yaml`` / ``*.yml`` in ``folder``, keyed by robot id; all errors reported together."""
    if not folder.is_dir():
        raise ProfileError(f"{folder}: the profiles folder does not exist")
    profiles: dict[str, RobotProfile] = {}
    origin: dict[str, Path] = {}
    errors: list[str] = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            profile = load_profile(path)
        except ProfileError as exc:
            errors.append(str(exc))
            continue
        if profile.robot_id in profiles:
            errors.append(f"{path}: robot_id {profile.robot_id!r} is already used by {origin[profile.robot_id]}")
            continue
        profiles[profile.robot_id] = profile
        origin[profile.robot_id] = path
    if errors:
        raise ProfileError("\n".join(errors))
    if not profiles:
        raise ProfileError(f"{folder}: no robot profiles (*.yaml) found")
    return profiles
