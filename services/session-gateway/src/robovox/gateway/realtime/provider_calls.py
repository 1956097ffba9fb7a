"""The provider calls this process holds open for one robot, from the provider's
answer until they are hung up; the session hash names them (``provider_calls``) so
that a gateway started after this one died can hang them up (``robot/predecessor.py``)."""

from __future__ import annotations

from collections.abc import Callable


class ProviderCalls:
    def __init__(self) -> None:
        self._open: set[str] = set()
        self._on_change: list[Callable[[], None]] = []

    def __contains__(self, provider_call_id: object) -> bool:
        return provider_call_id in self._open

    def __len__(self) -> int:
        return len(self._open)

    def listed(self) -> list[str]:
        return sorted(self._open)

    def on_change(self, callback: Callable[[], None]) -> None:
        """``callback`` is called whenever a call is added or taken away."""
        self._on_change.append(callback)

    def add(self, provider_call_id: str) -> None:
        self._open.add(provider_call_id)
        self._changed()

    def discard(self, provider_call_id: str) -> None:
        if provider_call_id in self._open:
            self._open.discard(provider_call_id)
            self._changed()

    def _changed(self) -> None:
        for callback in list(self._on_change):
            callback()
