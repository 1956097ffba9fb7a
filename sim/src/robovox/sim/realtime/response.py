"""One model response: the GA event sequence for a spoken/text reply or a function call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from . import events
from .audio import VoiceTrack
from .config import output_format, voice_of
from .model import Decision, FunctionCall, Reply, decide, item_text

LOG = logging.getLogger("robovox.sim.realtime")
ARGUMENT_CHUNKS = 3


class ResponseHost(Protocol):
    """What a response needs from its session."""

    voice: VoiceTrack

    def send(self, event: dict[str, Any]) -> dict[str, Any]: ...

    def add_item(self, item: dict[str, Any], previous_item_id: str | None = None) -> str | None:
        """Insert into the conversation and announce it (``conversation.item.added``)."""

    def next_rate_limits(self, tokens: int) -> list[dict[str, Any]]: ...

    def function_call_sent(self, call_id: str) -> None: ...

    def response_finished(self, run: ResponseRun) -> None: ...


@dataclass(frozen=True)
class ResponseSpec:
    response_id: str
    decision: Decision
    instructions: str
    modalities: list[str]
    conversation_id: str | None  # None: out of band, the conversation is not written
    audio_output: dict[str, Any]
    max_output_tokens: int | str
    metadata: dict[str, str] | None
    input_tokens: int
    seconds_per_word: float
    function_call_delay_s: float

    @property
    def audio(self) -> bool:
        return "audio" in self.modalities


def build_spec(
    params: dict[str, Any],
    config: dict[str, Any],
    conversation: list[dict[str, Any]],
    *,
    conversation_id: str | None,
    seconds_per_word: float,
    function_call_delay_s: float,
    decision: Decision | None = None,
) -> ResponseSpec:
    """What a response will do: ``response.create`` params over the session config."""
    instructions = params.get("instructions")
    if instructions is None:
        instructions = config.get("instructions") or ""
    context = params["input"] if params.get("input") is not None else list(conversation)
    if decision is None:
        tools = params["tools"] if params.get("tools") is not None else config.get("tools") or []
        decision = decide(context, tools, params.get("tool_choice") or config.get("tool_choice") or "auto")
    voice = ((params.get("audio") or {}).get("output") or {}).get("voice") or voice_of(config)
    return ResponseSpec(
        response_id=events.new_id("resp"),
        decision=decision,
        instructions=instructions,
        modalities=params.get("output_modalities") or config.get("output_modalities") or ["audio"],
        conversation_id=conversation_id,
        audio_output={"format": output_format(config), "voice": voice},
        max_output_tokens=params.get("max_output_tokens") or config.get("max_output_tokens") or "inf",
        metadata=params.get("metadata"),
        input_tokens=sum(events.count_tokens(item_text(i)) for i in context) + events.count_tokens(instructions),
        seconds_per_word=seconds_per_word,
        function_call_delay_s=function_call_delay_s,
    )


class ResponseRun:
    def __init__(self, host: ResponseHost, spec: ResponseSpec, call_id: str | None = None) -> None:
        self.host = host
        self.spec = spec
        self.id = spec.response_id
        self.call_id = (call_id or events.new_id("call")) if isinstance(spec.decision, FunctionCall) else None
        self.output: list[dict[str, Any]] = []
        self.status = "in_progress"
        self.audio_started = False
        self._output_tokens = 0
        self._reported = False
        self._task: asyncio.Task[None] | None = None

    @property
    def finished(self) -> bool:
        return self.status != "in_progress"

    @property
    def writes_conversation(self) -> bool:
        return self.spec.conversation_id is not None

    def start(self) -> None:
        """Send ``response.created`` and ``rate_limits.updated`` now; the rest follows in a task."""
        self._send("response.created", response=self._response())
        tokens = self.spec.input_tokens + events.count_tokens(str(self.spec.decision))
        self._send("rate_limits.updated", rate_limits=self.host.next_rate_limits(tokens))
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"realtime response {self.id}")

    def cancel(self, reason: Literal["client_cancelled", "turn_detected"], audio_end: str = "stopped") -> bool:
        """Stop now: ``response.done`` (cancelled) is sent before this returns. False if already finished."""
        if self.finished:
            return False
        self._stop("cancelled")
        for item in self.output:
            if item["status"] == "in_progress":
                item["status"] = "incomplete"
        details = {"type": "cancelled", "reason": reason}
        try:
            self._send("response.done", response=self._response(status_details=details, usage=self._usage()))
            if self.audio_started:
                self._send(f"output_audio_buffer.{audio_end}", response_id=self.id)
        finally:
            self._report_finished()
        return True

    def abandon(self) -> None:
        """Stop without a word (the session is closing)."""
        if not self.finished:
            self._stop("cancelled")

    async def wait_stopped(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    # ------------------------------------------------------------ internals
    def _stop(self, status: str) -> None:
        self.status = status
        self.host.voice.stop_speaking(self.id)
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()

    def _send(self, type_: str, **fields: Any) -> dict[str, Any]:
        return self.host.send({"type": type_, **fields})

    def _response(self, status_details: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        spec = self.spec
        return events.response_object(
            self.id,
            self.status,
            output=self.output,
            modalities=spec.modalities,
            conversation_id=spec.conversation_id,
            audio_output=spec.audio_output,
            max_output_tokens=spec.max_output_tokens,
            metadata=spec.metadata,
            status_details=status_details,
            **extra,
        )

    async def _run(self) -> None:
        try:
            decision = self.spec.decision
            if isinstance(decision, Reply):
                await self._reply(decision.text)
            else:
                await self._function_call(decision)
            self._complete()
        except asyncio.CancelledError:
            if not self.finished:
                raise
        except Exception:
            LOG.exception("response %s failed", self.id)
            self._fail()

    def _complete(self) -> None:
        self.status = "completed"
        self._send("response.done", response=self._response(usage=self._usage()))
        if self.audio_started:
            self._send("output_audio_buffer.stopped", response_id=self.id)
        self._report_finished()

    def _fail(self) -> None:
        if not self.finished:
            self._stop("failed")
            details = {"type": "failed", "error": {"type": "server_error", "code": "emulator_error"}}
            with contextlib.suppress(Exception):
                self._send("response.done", response=self._response(status_details=details))
        self._report_finished()

    def _usage(self) -> dict[str, Any]:
        return events.usage(self.spec.input_tokens, self._output_tokens, self.audio_started)

    def _report_finished(self) -> None:
        if not self._reported:
            self._reported = True
            self.host.response_finished(self)

    def _add_output(self, item: dict[str, Any]) -> int:
        index = len(self.output)
        self.output.append(item)
        self._send("response.output_item.added", response_id=self.id, output_index=index, item=events.item_object(item))
        if self.writes_conversation:
            self.host.add_item(item)
        return index

    def _complete_output(self, index: int) -> None:
        item = self.output[index]
        item["status"] = "completed"
        self._send("response.output_item.done", response_id=self.id, output_index=index, item=events.item_object(item))
        if item["type"] == "function_call":
            self.host.function_call_sent(item["call_id"])
        if self.writes_conversation:
            self._send("conversation.item.done", item=events.item_object(item))

    async def _reply(self, text: str) -> None:
        audio = self.spec.audio
        kind, key = ("audio", "transcript") if audio else ("text", "text")
        item = events.assistant_message(events.new_id("item"), "in_progress", [])
        index = self._add_output(item)
        where = {"response_id": self.id, "item_id": item["id"], "output_index": index, "content_index": 0}
        self._send("response.content_part.added", **where, part={"type": kind, key: ""})
        content = {"type": f"output_{kind}", key: ""}
        item["content"].append(content)
        if audio:
            self.audio_started = True
            self._send("output_audio_buffer.started", response_id=self.id)
            self.host.voice.start_speaking(self.id)
        delta_type = "response.output_audio_transcript.delta" if audio else "response.output_text.delta"
        for number, word in enumerate(text.split(" ")):
            if self.spec.seconds_per_word > 0:
                await asyncio.sleep(self.spec.seconds_per_word)
            delta = word if number == 0 else f" {word}"
            content[key] += delta
            self._output_tokens += events.count_tokens(delta)
            self._send(delta_type, **where, delta=delta)
        if audio:
            self.host.voice.stop_speaking(self.id)
            self._send("response.output_audio.done", **where)
            self._send("response.output_audio_transcript.done", **where, transcript=text)
        else:
            self._send("response.output_text.done", **where, text=text)
        self._send("response.content_part.done", **where, part={"type": kind, key: text})
        self._complete_output(index)

    async def _function_call(self, call: FunctionCall) -> None:
        assert self.call_id is not None
        item = events.function_call(events.new_id("item"), self.call_id, call.name, "", "in_progress")
        index = self._add_output(item)
        if self.spec.function_call_delay_s > 0:
            await asyncio.sleep(self.spec.function_call_delay_s)
        arguments = call.arguments_json
        where = {"response_id": self.id, "item_id": item["id"], "output_index": index, "call_id": self.call_id}
        size = max(1, -(-len(arguments) // ARGUMENT_CHUNKS))
        for start in range(0, len(arguments), size):
            delta = arguments[start : start + size]
            item["arguments"] += delta
            self._send("response.function_call_arguments.delta", **where, delta=delta)
        self._output_tokens += events.count_tokens(arguments)
        self._send("response.function_call_arguments.done", **where, name=call.name, arguments=arguments)
        self._complete_output(index)


async def stop_all(runs: list[ResponseRun]) -> None:
    for run in runs:
        run.abandon()
    for run in runs:
        with contextlib.suppress(Exception):
            await run.wait_stopped()
