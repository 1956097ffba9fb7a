"""The default conversation: items in order, as the model sees them."""

from __future__ import annotations

from typing import Any

from .errors import RealtimeApiError


class Conversation:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def find(self, item_id: str) -> dict[str, Any] | None:
        return next((item for item in self.items if item.get("id") == item_id), None)

    def require(self, item_id: str, param: str = "item_id") -> dict[str, Any]:
        item = self.find(item_id)
        if item is None:
            raise RealtimeApiError(f"Item with item_id '{item_id}' not found.", "item_not_found", param)
        return item

    def insert(self, item: dict[str, Any], previous_item_id: str | None = None) -> str | None:
        """Add after ``previous_item_id`` (``"root"``: first; None: last); return the id before it."""
        if self.find(item["id"]) is not None:
            raise RealtimeApiError(f"Item with id '{item['id']}' already exists.", "duplicate_item_id", "item.id")
        if previous_item_id is None:
            index = len(self.items)
        elif previous_item_id == "root":
            index = 0
        else:
            index = self.items.index(self.require(previous_item_id, "previous_item_id")) + 1
        self.items.insert(index, item)
        return self.items[index - 1]["id"] if index > 0 else None

    def remove(self, item_id: str) -> None:
        self.items.remove(self.require(item_id))

    def has_function_call(self, call_id: str) -> bool:
        return any(item.get("type") == "function_call" and item.get("call_id") == call_id for item in self.items)
