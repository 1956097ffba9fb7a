"""The ``robovox`` command: inspect a RoboVox Redis (``ROBOVOX_REDIS_URL``) from a shell.

Every command reads the robots' hashes and streams through their models in ``robovox.shared``,
prints tables for people (colour only on a terminal) and the same data with ``--json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import click
from redis.exceptions import RedisError

from robovox.cli import views
from robovox.cli.calls import timeline
from robovox.cli.errors import BadInputError, CliError
from robovox.cli.fleet import alert_transitions, robot_view
from robovox.cli.letters import dead_letters, replay
from robovox.cli.render import as_json, entry_json, entry_line
from robovox.cli.source import Source, robot_arg
from robovox.cli.tail import Filter, follow, streams_to_follow
from robovox.shared.stream_info import streams_of

T = TypeVar("T")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
SPAN = re.compile(r"^(\d+(?:\.\d+)?)(s|m|min|h|d)$")
UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


class Failed(click.ClickException):
    """A CliError said as ``robovox: <what went wrong>`` on one line, exit status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"robovox: {self.message}", err=True)


class RobovoxGroup(click.Group):
    """Every CliError a command raises, before or after it reaches Redis, said in one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as exc:
            raise Failed(str(exc)) from None


def run(ctx: click.Context, work: Callable[[Source], Awaitable[T]]) -> T:
    async def main() -> T:
        async with Source(ctx.obj["redis_url"]) as source:
            return await work(source)

    try:
        return asyncio.run(main())
    except CliError as exc:
        raise Failed(str(exc)) from None
    except (RedisError, OSError) as exc:
        raise Failed(f"Redis at {ctx.obj['redis_url']} failed: {exc}") from None


def parse_since(text: str | None) -> datetime | None:
    """``10m``, ``2h``, ``1d``, ``30s`` ago, or an ISO time (``2026-12-02T14:00:00Z``)."""
    if text is None:
        return None
    if span := SPAN.match(text.strip()):
        return datetime.now(UTC) - timedelta(seconds=float(span.group(1)) * UNITS[span.group(2)])
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Failed(f"--since {text!r} is neither a span (30s, 10m, 2h, 1d) nor an ISO time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def say(ctx: click.Context, text: str) -> None:
    click.echo(text, color=ctx.obj["color"])


json_option = click.option("--json", "as_json_", is_flag=True, help="Print JSON instead of a table.")
robot_argument = click.argument("robot", required=False)


@click.group(cls=RobovoxGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--redis-url", envvar="ROBOVOX_REDIS_URL", default=DEFAULT_REDIS_URL, show_default=True,
    help="The RoboVox Redis (ROBOVOX_REDIS_URL).",
)  # fmt: skip
@click.option("--color/--no-color", default=None, help="Colour even when not on a terminal, or never.")
@click.pass_context
def cli(ctx: click.Context, redis_url: str, color: bool | None) -> None:
    """Inspect a RoboVox Redis: robots, streams, calls, dead letters, alerts."""
    ctx.obj = {"redis_url": redis_url, "color": color}


@cli.command()
@robot_argument
@json_option
@click.pass_context
def robots(ctx: click.Context, robot: str | None, as_json_: bool) -> None:
    """Each robot's link, session, battery, emergency latch and firing alerts."""

    async def work(source: Source) -> list[views.RobotView]:
        return [await robot_view(source, r) for r in await source.robots_or(robot)]

    found = run(ctx, work)
    say(ctx, as_json(found) if as_json_ else views.robots_table(found))


@cli.command()
@robot_argument
@json_option
@click.pass_context
def streams(ctx: click.Context, robot: str | None, as_json_: bool) -> None:
    """Each stream's length and newest entry; each group's consumers, pending, lag and oldest pending entry."""

    async def work(source: Source) -> list[views.StreamView]:
        return [s for r in await source.robots_or(robot) for s in await streams_of(source.redis, r)]

    found = run(ctx, work)
    say(ctx, as_json(found) if as_json_ else views.streams_table(found))


@cli.command()
@click.argument("robot_and_streams", nargs=-1, metavar="[ROBOT] [STREAM]...")
@click.option("--filter", "filters", multiple=True, help="field=glob (call_id=call_9*, stream=inbox) or text.")
@click.option("--since", help="Start this far back (30s, 10m, 2h) or at an ISO time instead of now.")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many entries.")
@json_option
@click.pass_context
def tail(
    ctx: click.Context, robot_and_streams: tuple[str, ...], filters: tuple[str, ...], since: str | None,
    count: int | None, as_json_: bool,
) -> None:  # fmt: skip
    """Follow streams live, one line an entry (telemetry and events only when named). Ctrl-C ends."""
    names = list(robot_and_streams)
    robot = names.pop(0) if names and names[0] not in views.STREAM_NAMES else None
    parsed = [Filter.parse(f) for f in filters]
    start = parse_since(since)

    def ready(keys: int) -> None:
        click.echo(f"following {keys} stream{'s' if keys != 1 else ''} (Ctrl-C ends)", err=True)

    async def work(source: Source) -> int:
        shown = 0
        chosen = streams_to_follow(names)
        async for entry in follow(source, await source.robots_or(robot), chosen, parsed, start, ready):
            say(ctx, entry_json(entry) if as_json_ else entry_line(entry))
            shown += 1
            if count is not None and shown >= count:
                break
        return shown

    with contextlib.suppress(KeyboardInterrupt):
        run(ctx, work)


@cli.command()
@click.argument("call_id")
@click.option("--robot", help="The robot, when the call id is on several.")
@json_option
@click.pass_context
def call(ctx: click.Context, call_id: str, robot: str | None, as_json_: bool) -> None:
    """One call's whole timeline: its record's stages and every stream entry naming it, with times."""
    named = robot_arg(robot) if robot else None
    found = run(ctx, lambda source: timeline(source, call_id, named))
    say(ctx, as_json(found) if as_json_ else views.call_text(found))


@cli.command("dead-letters")
@robot_argument
@click.option("--since", help="Only letters this recent (30s, 10m, 2h) or after an ISO time.")
@click.option("--replay", "replays", multiple=True, metavar="ID", help="Put this dead letter's entry back; repeatable.")
@json_option
@click.pass_context
def dead_letters_command(
    ctx: click.Context, robot: str | None, since: str | None, replays: tuple[str, ...], as_json_: bool
) -> None:
    """Entries the consumers gave up on, with why; --replay re-publishes one on its stream, once."""
    start = parse_since(since)
    if replays:
        done = run(ctx, lambda source: _replay_all(source, robot, replays))
        say(ctx, as_json(done) if as_json_ else "\n".join(views.replay_line(r) for r in done))
        return

    async def work(source: Source) -> list[views.DeadLetterView]:
        return [d for r in await source.robots_or(robot) for d in await dead_letters(source, r, start)]

    found = run(ctx, work)
    say(ctx, as_json(found) if as_json_ else views.dead_letters_table(found))


async def _replay_all(source: Source, robot: str | None, ids: tuple[str, ...]) -> list[views.Replay]:
    for dead_letter_id in ids:
        if not re.match(r"^\d+-\d+$", dead_letter_id):
            raise BadInputError(f"{dead_letter_id!r} is not a dead letter's entry id (such as 1764684000123-0)")
    return [await replay(source, robot, i) for i in ids]


@cli.command()
@robot_argument
@click.option("--since", help="Only transitions this recent (30s, 10m, 2h) or after an ISO time.")
@json_option
@click.pass_context
def alerts(ctx: click.Context, robot: str | None, since: str | None, as_json_: bool) -> None:
    """Alert transitions (firing, resolved), emergency stops and resets, oldest first."""
    start = parse_since(since)

    async def work(source: Source) -> list[views.AlertTransition]:
        return [a for r in await source.robots_or(robot) for a in await alert_transitions(source, r, start)]

    found = run(ctx, work)
    say(ctx, as_json(found) if as_json_ else views.alerts_table(found))


def main() -> None:
    cli(prog_name="robovox")
