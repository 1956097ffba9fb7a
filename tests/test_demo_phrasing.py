"""The demo understands its own README: every suggestion gets the tool it names."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from robovox.shared.profile import load_profile, load_profiles, realtime_tools
from robovox.sim.demo_prompt import DemoPrompt
from robovox.sim.realtime.model import FunctionCall, Reply, decide
from tests.conftest import REPO, SHIPPED_PROFILE

SUGGESTION = re.compile(r'^(?:- )?"([^"]+)" \(`([a-z_]+)`\)', re.MULTILINE)
"""How the README suggests something to say, at the start of a line or list item:
"how long will the battery last?" (`get_battery_status`)."""

PROFILE = load_profile(SHIPPED_PROFILE)
TOOLS = realtime_tools(PROFILE)


def said(text: str) -> FunctionCall | Reply:
    return decide([{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}], TOOLS)


def readme_suggestions() -> list[tuple[str, str]]:
    return SUGGESTION.findall((REPO / "README.md").read_text())


def test_the_readme_suggests_something_for_most_tools() -> None:
    suggested = {tool for _text, tool in readme_suggestions()}
    assert len(suggested) >= 6
    assert suggested <= {t.name for t in PROFILE.tools}, "a suggestion names a tool the profile does not have"


@pytest.mark.parametrize(("text", "tool"), readme_suggestions())
def test_every_readme_suggestion_calls_the_tool_it_names(text: str, tool: str) -> None:
    decision = said(text)
    assert isinstance(decision, FunctionCall) and decision.name == tool, decision


@pytest.mark.parametrize("tool", [t for t in PROFILE.tools if t.examples], ids=lambda t: t.name)
def test_every_example_in_the_profile_calls_its_own_tool(tool: object) -> None:
    for example in tool.examples:  # type: ignore[attr-defined]
        decision = said(example)
        assert isinstance(decision, FunctionCall) and decision.name == tool.name, (example, decision)  # type: ignore[attr-defined]


def test_phrasings_read_their_words_and_enum_values() -> None:
    assert said("move to the top-left corner") == FunctionCall("move_to_corner", {})  # no such corner: asked
    assert said("go to the front left corner") == FunctionCall("move_to_corner", {"corner": "front_left"})
    assert said("please lower the pads and vacuum") == FunctionCall("lower_vacuum_pads", {})
    assert said("stop cleaning") == FunctionCall("stop_cleaning", {})
    assert said("stop the robot!") == FunctionCall("emergency_stop", {})
    assert said("hello robot") == Reply("You said: hello robot")


def test_examples_reach_the_model_in_the_tool_description() -> None:
    (battery,) = [t for t in TOOLS if t["name"] == "get_battery_status"]
    assert battery["description"].endswith(
        '\nExamples of what people say for it: "how long will the battery last?"; '
        '"when does the battery need swapping?".'
    )
    assert set(battery) == {"type", "name", "description", "parameters"}, "nothing beyond the Realtime tool fields"


async def test_the_prompt_has_help_and_switches_robots(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    shutil.copy(SHIPPED_PROFILE, folder / "cleaner-1.yaml")
    text = SHIPPED_PROFILE.read_text().replace("robot_id: cleaner-1", "robot_id: cleaner-2")
    (folder / "cleaner-2.yaml").write_text(text.replace("display_name: Cleaning robot 1", "display_name: Second"))
    prompt = DemoPrompt(None, None, folder, load_profiles(folder)["cleaner-1"])  # type: ignore[arg-type]

    help_text = await prompt.answer("help")
    assert help_text.startswith("Talking to cleaner-1 (Cleaning robot 1).")
    assert '"how long will the battery last?"' in help_text and "-> get_battery_status" in help_text
    assert await prompt.answer("robots") == "* cleaner-1 (Cleaning robot 1)\n  cleaner-2 (Second)"
    assert (
        await prompt.answer("robot cleaner-9")
        == "No robot 'cleaner-9'. Use `robot <id>` with one of: cleaner-1, cleaner-2."
    )
    assert (await prompt.answer("robot cleaner-2")).startswith("Now talking to cleaner-2 (Second).")
    assert prompt.profile.robot_id == "cleaner-2"
