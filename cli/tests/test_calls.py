"""Where ``robovox call`` looks for a call's entries, and which entries name it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from robovox.cli.calls import AFTER, BEFORE, names_call, search_window
from robovox.cli.source import id_at
from robovox.shared.call_life import CallRecord, CallState
from robovox.shared.stream_info import Entry


def entry(stream: str, **fields: str) -> Entry:
    return Entry("cleaner-1", stream, "1-0", fields, None, None)


def test_the_streams_are_searched_around_the_records_times() -> None:
    published, done = datetime(2026, 12, 2, 14, 0, tzinfo=UTC), datetime(2026, 12, 2, 14, 0, 1, tzinfo=UTC)
    record = CallRecord(state=CallState.DONE, published_at=published, done_at=done)
    assert search_window("call_1", record) == (id_at(published - BEFORE), id_at(done + AFTER))


def test_an_alert_actions_call_has_no_record_and_is_searched_around_its_firing() -> None:
    fired = datetime(2026, 12, 2, 14, 0, 0, 123000, tzinfo=UTC)
    call_id = f"alert-battery_critical-{int(fired.timestamp() * 1000)}"
    assert search_window(call_id, None) == (id_at(fired - BEFORE), id_at(fired + AFTER))
    assert search_window("call_unknown", None) == ("-", "+")  # nothing known: the whole streams


def test_an_entry_names_the_call_by_its_field_and_a_dead_letter_by_its_original() -> None:
    assert names_call(entry("inbox", call_id="call_1"), "call_1")
    assert not names_call(entry("inbox", call_id="call_10"), "call_1")
    original = json.dumps({"call_id": "call_1", "name": ""})
    assert names_call(entry("dead_letters", original=original), "call_1")
    assert names_call(entry("dead_letters", original='{"call_id": "call_1", "name": "…(cut 9 chars)'), "call_1")
    assert not names_call(entry("dead_letters", original=json.dumps({"call_id": "call_2"})), "call_1")
