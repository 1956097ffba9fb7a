"""Command line entry point: ``robovox-realtime-emulator`` / ``python -m robovox.sim.realtime``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from robovox.sim.cli import run_cli, serve_until_signalled

from .input_audio import DEFAULT_HEARD_TEXT
from .server import RealtimeEmulator


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="robovox-realtime-emulator",
        description="Offline OpenAI Realtime API (GA) over WebRTC with a deterministic model",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY", "sk-test"), help="default: $OPENAI_API_KEY")
    p.add_argument(
        "--api-key-file", type=Path, default=None, help="read the key from this file instead (a Docker secret)"
    )
    p.add_argument("--max-session-s", type=float, default=3600.0, help="sessions end with session_expired after this")
    p.add_argument("--seconds-per-word", type=float, default=0.05, help="pace of spoken/text replies")
    p.add_argument("--function-call-delay", type=float, default=0.0, help="seconds before a call's arguments")
    p.add_argument(
        "--heard-text",
        default=DEFAULT_HEARD_TEXT,
        help="transcript of every user turn detected in the incoming audio (default: %(default)s)",
    )
    p.add_argument(
        "--ice-host",
        action="append",
        default=None,
        help="address offered as ICE host candidate (repeatable; default 127.0.0.1)",
    )
    p.add_argument(
        "--withhold-responses",
        action="store_true",
        help="turn detection commits what it hears but never answers it (a model that is not responding)",
    )
    p.add_argument("--log-level", default="INFO")
    return p


async def _run(args: argparse.Namespace) -> None:
    emulator = RealtimeEmulator(
        args.host,
        args.port,
        api_key=args.api_key_file.read_text().strip() if args.api_key_file else args.api_key,
        max_session_s=args.max_session_s,
        seconds_per_word=args.seconds_per_word,
        function_call_delay_s=args.function_call_delay,
        ice_host_addresses=args.ice_host or ["127.0.0.1"],
        heard_text=args.heard_text,
        answers_speech=not args.withhold_responses,
    )
    await serve_until_signalled(emulator, lambda: f"Realtime emulator listening on {emulator.base_url}")


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run_cli(_run(args), args.log_level)


if __name__ == "__main__":
    main()
