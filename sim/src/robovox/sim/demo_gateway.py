"""The session gateway of ``make demo``: with ``OPENAI_API_KEY`` it talks to
OpenAI; without, to the Realtime emulator on loopback."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from dataclasses import dataclass, field

import httpx2

from robovox.shared.embedded_redis import free_port


@dataclass
class Gateway:
    env: dict[str, str]
    url: str
    token: str
    provider: str
    emulator_command: list[tuple[list[str], dict[str, str]]] = field(default_factory=list)

    @classmethod
    def for_demo(cls, base_env: dict[str, str]) -> Gateway:
        port, token = free_port(), secrets.token_urlsafe(12)
        env = {**base_env, "ROBOVOX_API_PORT": str(port), "ROBOVOX_API_TOKEN": token}
        key = os.environ.get("OPENAI_API_KEY", "")
        if key:
            env["ROBOVOX_OPENAI_API_KEY"] = key
            return cls(env, f"http://127.0.0.1:{port}", token, "OpenAI (OPENAI_API_KEY is set)")
        emulator_port, emulator_key = free_port(), "sk-emulator-" + secrets.token_hex(8)
        env.update(
            ROBOVOX_OPENAI_API_KEY=emulator_key,
            ROBOVOX_REALTIME_BASE_URL=f"http://127.0.0.1:{emulator_port}/v1",
            ROBOVOX_ICE_HOST_ADDRESSES="127.0.0.1",
        )
        emulator = [  # its key is the emulator's own, never a real one
            sys.executable, "-m", "robovox.sim.realtime", "--port", str(emulator_port), "--api-key", emulator_key,
            "--ice-host", "127.0.0.1", "--log-level", "WARNING",
        ]  # fmt: skip
        return cls(
            env, f"http://127.0.0.1:{port}", token, "the Realtime emulator (no OPENAI_API_KEY)", [(emulator, env)]
        )

    async def wait_live(self, robot_id: str, timeout_s: float = 60.0) -> None:
        async with httpx2.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}) as api:
            async with asyncio.timeout(timeout_s):
                while True:
                    try:
                        robot = (await api.get(f"/v1/robots/{robot_id}")).json()
                        if robot.get("state") == "live":
                            return
                    except httpx2.HTTPError:
                        pass  # not listening yet
                    await asyncio.sleep(0.2)  # another process; nothing to await
