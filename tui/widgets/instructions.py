"""A step's instructions as Markdown, with every code block a command the learner can copy.

A code block takes focus (tab, or a click); Enter, `y` or a click puts its text on the clipboard
(through the terminal, OSC 52; in the browser through `lab serve`'s page). A leading "$ " prompt is left out.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.events import Click
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock, MarkdownFence

from tui.data import StepView
from tui.messages import CopyText


def command_text(code: str) -> str:
    """The text to copy: the block's lines without shell prompts."""
    lines = [line[2:] if line.startswith("$ ") else line for line in code.splitlines()]
    return "\n".join(lines).strip()


class CommandFence(MarkdownFence):
    """A code block you can copy."""

    can_focus = True
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter,y", "copy", "Copy command")]

    def on_mount(self) -> None:
        self.tooltip = "Enter, y or click: copy"

    def action_copy(self) -> None:
        self.post_message(CopyText(command_text(self.code)))

    def on_click(self, event: Click) -> None:
        event.stop()
        self.focus()
        self.action_copy()


class StepMarkdown(Markdown):
    BLOCKS: ClassVar[dict[str, type[MarkdownBlock]]] = {**Markdown.BLOCKS, "fence": CommandFence,
                                                        "code_block": CommandFence}


def step_markdown(step: StepView, number: int, total: int) -> str:
    return f"## Step {number} of {total}: {step.title}\n\n{step.instructions_md.strip()}\n"


class InstructionsView(VerticalScroll):
    """Scrolls; shows one step at a time."""

    def compose(self) -> ComposeResult:
        yield StepMarkdown(id="instructions-md", open_links=False)

    async def show(self, step: StepView, number: int, total: int) -> None:
        await self.query_one(StepMarkdown).update(step_markdown(step, number, total))
        self.scroll_home(animate=False)

    def commands(self) -> list[str]:
        return [command_text(fence.code) for fence in self.query(CommandFence)]
