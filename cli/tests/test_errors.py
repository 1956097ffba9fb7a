"""Every bad input gets one line saying what is wrong, and exit status 1 (never a traceback)."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner, Result

from robovox.cli.app import cli
from robovox.shared.embedded_redis import free_port


async def robovox(redis_url: str, *args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli, ["--redis-url", redis_url, *args])


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["robots", "Bad!"], "robot id 'Bad!' must be 1-63 characters of a-z, 0-9, '-' or '_', starting with a "
         "letter or digit"),
        (["tail", "cleaner-1", "nosuch"], "no stream 'nosuch'; the streams are tool_calls, commands, command_results, "
         "inbox, emergency, alerts, dead_letters, conversation, events, telemetry"),
        (["tail", "--filter", "=up"], "--filter '=up' has no field name before '='"),
        (["tail"], "no robots in this Redis yet; name one to wait for it"),
        (["alerts", "--since", "yesterday"], "--since 'yesterday' is neither a span (30s, 10m, 2h, 1d) nor an ISO "
         "time"),
        (["call", "no spaces"], "'no spaces' is not a call id (1-128 characters of A-Z, a-z, 0-9, _ . : -)"),
        (["call", "call_1", "--robot", "x y"], "robot id 'x y' must be 1-63 characters of a-z, 0-9, '-' or '_', "
         "starting with a letter or digit"),
        (["dead-letters", "--replay", "abc"], "'abc' is not a dead letter's entry id (such as 1764684000123-0)"),
    ],
)  # fmt: skip
async def test_a_bad_input_is_said_in_one_line(redis_url: str, args: list[str], said: str) -> None:
    result = await robovox(redis_url, *args)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"robovox: {said}\n")


async def test_an_empty_redis_has_nothing_to_show_and_says_so(redis_url: str) -> None:
    for args, said in [(["robots"], "no robots in this Redis"), (["dead-letters"], "no dead letters"),
                       (["alerts"], "no alerts"), (["streams", "--json"], "[]")]:  # fmt: skip
        result = await robovox(redis_url, *args)
        assert (result.exit_code, result.stdout) == (0, f"{said}\n")


async def test_a_redis_that_does_not_answer_is_one_line() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    result = await robovox(url, "robots")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"robovox: Redis at {url} does not answer: ") and result.stderr.count("\n") == 1
