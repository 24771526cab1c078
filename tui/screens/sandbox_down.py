"""Said when the sandbox stops answering: nothing is lost, and it can be started again from here."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class SandboxDownScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "answer(True)", "Restart"),
                                             Binding("escape", "answer(False)", "Dismiss")]

    def __init__(self, endpoint: str, reason: str) -> None:
        super().__init__(classes="dialog")
        self.endpoint = endpoint
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="sandbox-down"):
            yield Static(Content.from_markup(
                "[$error b]The sandbox stopped answering[/]\n$endpoint\n[dim]$reason[/dim]\n\n"
                "Your progress is saved, and so is everything you did in the sandbox: its state is on disk, "
                "and starting it again brings it back.",
                endpoint=self.endpoint, reason=self.reason), classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Restart the sandbox (r)", id="restart", variant="primary")
                yield Button("Not now", id="dismiss")

    def on_mount(self) -> None:
        self.query_one("#restart", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "restart")

    def action_answer(self, restart: bool) -> None:
        self.dismiss(restart)
