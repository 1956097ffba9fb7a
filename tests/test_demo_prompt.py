"""`make demo` at a terminal: typed lines reach the robot, `help` answers, Ctrl-C ends it in order."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.process


class Terminal:
    """The demo on a pseudo-terminal, as a person at a keyboard runs it."""

    def __init__(self, command: list[str]) -> None:
        self.fd, child = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
        self.proc = subprocess.Popen(
            command, cwd=REPO, stdin=child, stdout=child, stderr=child, env=env, start_new_session=True
        )
        os.close(child)
        self.seen = ""

    def read_until(self, text: str, timeout_s: float = 60.0) -> str:
        """Everything printed until ``text`` appears (select() waits for output; nothing is slept)."""
        end = time.monotonic() + timeout_s
        start = len(self.seen)
        while text not in self.seen[start:]:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise TimeoutError(f"{text!r} not printed within {timeout_s} s; got:\n{self.seen[start:]}")
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the demo exited and the terminal closed
                raise TimeoutError(f"the demo ended before printing {text!r}:\n{self.seen[start:]}") from None
            self.seen += chunk.decode(errors="replace").replace("\r\n", "\n")
        return self.seen[start:]

    def drain(self) -> None:
        """What is left on the terminal once the demo has exited."""
        while select.select([self.fd], [], [], 0)[0]:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.seen += chunk.decode(errors="replace").replace("\r\n", "\n")

    def type(self, line: str) -> str:
        os.write(self.fd, line.encode() + b"\n")
        return self.read_until("robovox> ")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)
        os.close(self.fd)


def test_typed_lines_reach_the_robot_help_answers_and_ctrl_c_ends_it(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "robovox.sim.embedded", "--redis-port", "0", "--sim-port", "0"]
    terminal = Terminal([*command, "--state-dir", str(tmp_path)])
    try:
        terminal.read_until("robovox> ", timeout_s=90)
        assert '"how long will the battery last?"' in terminal.type("help")
        said = terminal.type("how long will the battery last?")
        assert "model calls get_battery_status({})" in said
        assert "result: battery status: " in said
        said = terminal.type("lower the vacuum pads")
        assert "model calls lower_vacuum_pads({})" in said
        assert "No robot 'cleaner-9'" in terminal.type("robot cleaner-9")

        pressed = time.monotonic()
        os.killpg(terminal.proc.pid, signal.SIGINT)  # Ctrl-C: the terminal's foreground process group
        terminal.proc.wait(30)
        took_s = time.monotonic() - pressed
        terminal.drain()
    finally:
        terminal.close()
    assert took_s < 5.0, f"Ctrl-C took {took_s:.1f} s"
    assert "Traceback" not in terminal.seen
    assert "Redis unreachable" not in terminal.seen and "retrying" not in terminal.seen, "no retry storm"
