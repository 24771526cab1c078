"""Messages that go up from widgets to their screen or the app (attributes go down, messages go up)."""

from __future__ import annotations

from textual.message import Message


class OpenLab(Message):
    """The learner chose a lab to work on."""

    def __init__(self, lab_id: str) -> None:
        super().__init__()
        self.lab_id = lab_id


class StepChosen(Message):
    """The learner moved to another step of the open lab."""

    def __init__(self, step_id: str) -> None:
        super().__init__()
        self.step_id = step_id


class CopyText(Message):
    """Put a command on the clipboard (and say so)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class InjectScenario(Message):
    """Inject a failure scenario with these parameters."""

    def __init__(self, scenario: str, params: dict[str, object]) -> None:
        super().__init__()
        self.scenario = scenario
        self.params = params


class ClockAction(Message):
    """Pause, resume, set the speed of, or advance sim time."""

    def __init__(self, action: str, value: str | None = None) -> None:
        super().__init__()
        self.action = action
        self.value = value
