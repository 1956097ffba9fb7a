"""cut_text: a cut text fills its limit exactly, note included, whatever the digit counts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from robovox.shared.limits import CUT_NOTE, cut_text


@given(length=st.integers(min_value=0, max_value=20_000), limit=st.integers(min_value=1, max_value=5_000))
def test_a_cut_text_is_exactly_its_limit_and_says_how_much_was_cut(length: int, limit: int) -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(length))
    cut = cut_text(text, limit)
    if length <= limit:
        assert cut == text
        return
    assert len(cut) == limit
    kept = cut.split(" [... cut:")[0]
    if kept != cut:
        assert text.startswith(kept)
        assert cut == kept + CUT_NOTE.format(length - len(kept))
    else:
        assert cut == text[:limit]


def test_the_boundary_where_the_count_gains_a_digit() -> None:
    # 600 characters cut to 500: the first guess cuts 100 - len(note) < 100, the note says 1xx: one digit more.
    for length in range(520, 560):
        assert len(cut_text("x" * length, 500)) == 500
