"""The deterministic model: what a response does, decided from the latest conversation item.

- A user message naming a tool, its keywords or one of its examples -> a call of that
  tool, its arguments read off the text with the tool's JSON schema (enum values, numbers).
- Anything else -> a short reply echoing what it answers.

A tool's phrases are its name, its name without a generic verb, and the examples its
description quotes on a line that starts with "Examples" (RoboVox's profiles put their
``examples:`` there). A phrase matches when it is in the text whole (normalised: lowercase,
letters and digits only, so "start cleaning, turn right" contains ``start_cleaning`` and
enum value ``TurnRight``), or when at least three quarters of its words other than small
ones ("the", "to", "please") are in it: "lower the vacuum pads" names ``lower_vacuum_pads``,
"move to the top-left corner" names ``move_to_corner``. A whole match beats a partial one,
a longer phrase a shorter one. Enum values match whole or by their words ("front left").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

GREETING = "Hello, how can I help?"
_GENERIC_VERBS = {"get", "set", "read", "query", "fetch", "check", "do", "run", "call"}
_SMALL_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "at",
        "can",
        "could",
        "do",
        "for",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "now",
        "of",
        "on",
        "please",
        "robot",
        "the",
        "to",
        "up",
        "what",
        "whats",
        "will",
        "would",
        "you",
        "your",
    }
)
_PARTIAL_SHARE = 0.75
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_QUOTED = re.compile(r'"([^"]+)"')
ECHO_CHARS = 200


@dataclass(frozen=True)
class FunctionCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str | None = None  # sent verbatim when given (test hook)

    @property
    def arguments_json(self) -> str:
        return self.raw_arguments if self.raw_arguments is not None else json.dumps(self.arguments)


@dataclass(frozen=True)
class Reply:
    text: str


Decision = FunctionCall | Reply


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def item_text(item: dict[str, Any]) -> str:
    """The words of a message item (text parts and audio transcripts), or a function output."""
    if item.get("type") == "function_call_output":
        return str(item.get("output", ""))
    parts = []
    for part in item.get("content") or []:
        for key in ("text", "transcript"):
            value = part.get(key)
            if isinstance(value, str) and value:
                parts.append(value)
    return " ".join(parts)


def decide(context: list[dict[str, Any]], tools: list[dict[str, Any]], tool_choice: Any = "auto") -> Decision:
    latest = context[-1] if context else None
    if latest is None:
        return Reply(GREETING)
    kind, role, text = latest.get("type"), latest.get("role"), item_text(latest)
    if kind == "function_call_output":
        return Reply(f"Done: {_gist(text)}")
    if kind == "message" and role == "system":
        return Reply(f"Noted: {_gist(text)}")
    if kind == "message" and role == "user":
        call = _tool_call(text, _callable_tools(tools, tool_choice), tool_choice)
        return call if call is not None else Reply(f"You said: {text}" if text else GREETING)
    return Reply(GREETING)


def _gist(text: str) -> str:
    """What the model repeats of a result or notice: a sentence's worth, not a long text read back."""
    return text if len(text) <= ECHO_CHARS else f"{text[:ECHO_CHARS]}..."


def _callable_tools(tools: list[dict[str, Any]], tool_choice: Any) -> list[dict[str, Any]]:
    functions = [t for t in tools if t.get("type", "function") == "function" and isinstance(t.get("name"), str)]
    if tool_choice == "none":
        return []
    if isinstance(tool_choice, dict) and tool_choice.get("type") == "function":
        return [t for t in functions if t["name"] == tool_choice.get("name")]
    return functions


def _tool_call(text: str, tools: list[dict[str, Any]], tool_choice: Any) -> FunctionCall | None:
    said = normalise(text)
    said_words = set(_words(text))
    best: tuple[float, int, dict[str, Any], str] | None = None
    for tool in tools:
        for phrase in _phrases(tool):
            score = _match(phrase, said, said_words)
            if score and (best is None or (score, len(phrase)) > best[:2]):
                best = (score, len(phrase), tool, phrase)
    if best is None:
        forced = tool_choice == "required" or isinstance(tool_choice, dict)
        if not (forced and tools):
            return None
        tool, rest = tools[0], said
    else:
        tool, rest = best[2], said.replace(normalise(best[3]), " ", 1)
    return FunctionCall(tool["name"], arguments_from(text, rest, tool.get("parameters")))


def _words(text: str) -> list[str]:
    """Lowercase words, names split at ``_`` and at camel case: ``TurnRight`` -> turn, right."""
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])", text) if w]


def _phrases(tool: dict[str, Any]) -> list[str]:
    name = tool["name"]
    phrases = [" ".join(_words(name))]
    keywords = _keywords(name)
    if keywords:
        phrases.append(keywords)
    description = tool.get("description")
    if isinstance(description, str):
        for line in description.splitlines():
            if line.strip().lower().startswith("examples"):
                phrases.extend(_QUOTED.findall(line))
    return phrases


def _match(phrase: str, said: str, said_words: set[str]) -> float:
    """2 for a phrase in the text whole, its share of words present when that is at least 3/4, else 0."""
    if normalise(phrase) and normalise(phrase) in said:
        return 2.0
    content = {w for w in _words(phrase) if w not in _SMALL_WORDS}
    if not content:
        return 0.0
    share = len(content & said_words) / len(content)
    return share if share >= _PARTIAL_SHARE else 0.0


def _keywords(name: str) -> str:
    """``get_battery_voltage`` -> ``"battery voltage"``: the name without a generic leading verb."""
    words = _words(name)
    if len(words) > 1 and words[0] in _GENERIC_VERBS:
        return " ".join(words[1:])
    return ""


def arguments_from(text: str, said: str, schema: Any) -> dict[str, Any]:
    """Arguments the text supplies for a JSON schema: enum values named in ``said`` (the
    normalised text without the tool's name), numbers from ``text`` in order."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return {}
    arguments: dict[str, Any] = {}
    numbers = iter(_NUMBER.findall(text))
    said_words = set(_words(text))
    for name, spec in properties.items():
        if not isinstance(spec, dict):
            continue
        if isinstance(spec.get("enum"), list):
            named = [v for v in spec["enum"] if normalise(str(v)) and normalise(str(v)) in said]
            named = named or [v for v in spec["enum"] if _words(str(v)) and set(_words(str(v))) <= said_words]
            if named:
                arguments[name] = max(named, key=lambda v: len(normalise(str(v))))
        elif spec.get("type") in ("number", "integer"):
            number = next(numbers, None)
            if number is not None:
                arguments[name] = int(float(number)) if spec["type"] == "integer" else float(number)
    return arguments
