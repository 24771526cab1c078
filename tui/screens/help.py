"""Help: every key that works where you are, and the ones that work everywhere."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.style import colour

SECTIONS_HELP = (
    ("1 … 5", "Home, Map, Resources, Events, Clock and failures"),
    ("ctrl+p", "command palette: open a lab, run checks, drive the clock, inject a failure…"),
    ("tab / shift+tab", "move between panels; enter acts on the highlighted item"),
    ("ctrl+t", "dark or light theme"),
    ("ctrl+r", "start the sandbox again if it stopped"),
    ("? or f1", "this help; escape closes it"),
    ("q / ctrl+q", "quit (the sandbox keeps running; `lab down` stops it)"),
)
HOW_IT_WORKS = (
    "Each lab is a guided walk: read the step's instructions, run the commands (copy a code block with "
    "enter or y) against the sandbox with the aws CLI or boto3 after `eval \"$(lab env)\"`, and watch the "
    "checks turn green. When every step passes, start the drill: a failure is injected, you recover, and the "
    "lab measures RTO and RPO against the lab's targets. Your progress is saved as you go."
)


def lab_binding(node: object, binding: Binding) -> bool:
    """Is the binding one of the lab's own (declared by a class of this package), not a widget's stock key
    such as a table's cursor movement?"""
    for cls in type(node).__mro__:
        if cls.__module__.startswith("tui.") and any(
                isinstance(declared, Binding) and declared.action == binding.action
                for declared in cls.__dict__.get("BINDINGS", ())):
            return True
    return False


def key_rows(app: App[object], screen: Screen[object]) -> list[tuple[str, str]]:
    """The keys of this screen and its focused widget (the app's own are in SECTIONS_HELP): the lab's own,
    described, without repeats."""
    here: list[tuple[str, str]] = []
    for active in screen.active_bindings.values():
        binding: Binding = active.binding
        if active.node is app or not binding.description or not lab_binding(active.node, binding):
            continue
        row = (app.get_key_display(binding), binding.description)
        if row not in here:
            here.append(row)
    return here


def key_table(app: App[object], rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style=colour(app, "accent"), no_wrap=True)
    table.add_column()
    for key, what in rows:
        table.add_row(key, what)
    return table


def help_renderable(app: App[object], screen: Screen[object]) -> Group:
    here = key_rows(app, screen)
    return Group(
        Text("Keys here", style="bold"),
        key_table(app, here) if here else Text("none beyond the ones below", style="dim"),
        Text("\nEverywhere", style="bold"),
        key_table(app, list(SECTIONS_HELP)),
        Text("\nHow a lab works", style="bold"),
        Text(HOW_IT_WORKS),
    )


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,f1,q", "dismiss", "Close help")]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__(classes="dialog")
        self.under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box", id="help-box"):
            yield Static(help_renderable(self.app, self.under), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = "Help"
