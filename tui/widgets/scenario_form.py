"""One failure scenario's parameters as a form, and the button that injects it.

Each parameter gets an input pre-filled with its default (a switch for booleans); an emptied input leaves
the parameter to the scenario's default. Values are converted to the parameter's declared type here, so
a typo is caught before anything is injected.
"""

from __future__ import annotations

import re
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Static, Switch

from tui.data import ParamSpec, ScenarioView
from tui.messages import InjectScenario

NUMERIC_TYPES = {"integer": int, "int": int, "number": float, "float": float}


def convert(param_type: str, text: str) -> Any:
    """The typed value of `text`; ValueError naming the expected type."""
    kind = param_type.lower()
    if kind in NUMERIC_TYPES:
        try:
            return NUMERIC_TYPES[kind](text)
        except ValueError:
            raise ValueError(f"{text!r} is not a{'n' if kind.startswith('i') else ''} {kind}") from None
    if kind in ("list", "array"):
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def default_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


TYPE_PROMPTS = {"integer": "a whole number", "number": "a number", "duration": "a duration, e.g. 30m",
                "list": "names, separated by commas", "array": "names, separated by commas"}


def placeholder(param: ParamSpec) -> str:
    """What an empty field says: what to type there (never the bare type name, which reads like a value)."""
    if param.choices:
        return " | ".join(param.choices)
    found = re.search(r"\(empty: ([^)]*)\)", param.description)
    if found:
        return f"empty: {found.group(1)}"
    return param.description or TYPE_PROMPTS.get(param.type.lower(), "")


class ScenarioForm(VerticalScroll):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario: ScenarioView | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content.from_markup("[dim]Choose a scenario on the left.[/dim]"), id="scenario-description")

    async def show(self, scenario: ScenarioView) -> None:
        self.scenario = scenario
        self.border_title = scenario.name
        await self.remove_children()
        widgets: list[Any] = [Static(scenario.description or scenario.name, id="scenario-description")]
        for param in scenario.params:
            label = Static(Content.from_markup("$name[dim]$required[/dim]", name=param.name,
                                               required="*" if param.required else ""), classes="param-label")
            if param.type.lower() in ("boolean", "bool"):
                field: Any = Switch(value=bool(param.default), id=f"param-{param.name}", classes="param-input")
            else:
                field = Input(value=default_text(param.default), placeholder=placeholder(param),
                              id=f"param-{param.name}", classes="param-input", compact=True)
            field.tooltip = param.description or param.type
            widgets.append(Horizontal(label, field, classes="param-row"))
        widgets.append(Button(f"Inject {scenario.name}", id="inject", variant="error", compact=True))
        await self.mount_all(widgets)

    def values(self) -> dict[str, Any]:
        """The parameters to send; ValueError naming the first bad one."""
        assert self.scenario is not None
        values: dict[str, Any] = {}
        for param in self.scenario.params:
            field = self.query_one(f"#param-{param.name}")
            if isinstance(field, Switch):
                values[param.name] = field.value
                continue
            text = field.value.strip() if isinstance(field, Input) else ""
            if not text:
                if param.required:
                    raise ValueError(f"{param.name} is required")
                continue
            if param.choices and text not in param.choices:
                raise ValueError(f"{param.name} must be one of {', '.join(param.choices)}, not {text!r}")
            try:
                values[param.name] = convert(param.type, text)
            except ValueError as exc:
                raise ValueError(f"{param.name}: {exc}") from None
        return values

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "inject" or self.scenario is None:
            return
        event.stop()
        try:
            values = self.values()
        except ValueError as exc:
            self.app.notify(str(exc), title=f"{self.scenario.name}: check the parameters", severity="error")
            return
        self.post_message(InjectScenario(self.scenario.name, values))
