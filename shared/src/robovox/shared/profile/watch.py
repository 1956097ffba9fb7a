"""Noticing that the profiles folder changed, so a running service can serve what it now says.

The folder is looked at every ``ROBOVOX_PROFILES_WATCH_S`` (its files' names, sizes and
modification times: a stat per file, no reading) and at once when ``poke()`` is called (on
SIGHUP). A change is loaded whole; a folder that does not load (a typo, a file half written)
is reported once per change and the running profiles are kept, so a bad edit never takes a
robot away. Polling, not inotify: it works the same on a bind mount, a Docker volume and NFS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from robovox.shared.profile.loader import ProfileError, load_profiles
from robovox.shared.profile.schema import RobotProfile

log = logging.getLogger(__name__)

Signature = tuple[tuple[str, int, int], ...]


def folder_signature(folder: Path) -> Signature:
    """Name, size and mtime of every profile file: what changes when a profile is added, edited or removed."""
    files: list[tuple[str, int, int]] = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        with contextlib.suppress(FileNotFoundError):  # removed between the listing and the stat
            stat = path.stat()
            files.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(files)


class ProfileWatch:
    def __init__(self, folder: Path, interval_s: float) -> None:
        self.folder = folder
        self._interval_s = interval_s
        self._poked = asyncio.Event()
        self._seen = folder_signature(folder) if folder.is_dir() else ()

    def poke(self) -> None:
        """Look now (SIGHUP), and load the folder even if nothing seems to have changed."""
        self._poked.set()

    async def changes(self, stopping: asyncio.Event) -> AsyncIterator[dict[str, RobotProfile]]:
        """The folder's profiles each time it changed and loads, until ``stopping``."""
        while not stopping.is_set():
            await self._next_look(stopping)
            if stopping.is_set():
                return
            poked = self._poked.is_set()
            self._poked.clear()
            signature = folder_signature(self.folder) if self.folder.is_dir() else ()
            if signature == self._seen and not poked:
                continue
            self._seen = signature
            try:
                profiles = load_profiles(self.folder)
            except ProfileError as exc:
                log.error("profiles not reloaded; the running ones are kept:\n%s", exc)
                continue
            yield profiles

    async def _next_look(self, stopping: asyncio.Event) -> None:
        waits = [asyncio.ensure_future(stopping.wait()), asyncio.ensure_future(self._poked.wait())]
        try:
            await asyncio.wait(waits, timeout=self._interval_s or None, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
