"""Failure scenarios: named, parameterised recipes of effects (`lab fail NAME --param k=v`, POST /_lab/fail,
an exercise's drill). Each scenario is a `Scenario` subclass in its own `_scenario_*.py` module; defining the
class registers it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from lab.sim.clock import format_duration, parse_duration

if TYPE_CHECKING:
    from lab.services.faults.effects import Effects

PARAM_TYPES = ("str", "int", "bool", "duration", "choice", "region")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # one of PARAM_TYPES
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None

    def parse(self, value: Any) -> Any:
        """The value a scenario gets: typed and checked. Strings (from `--param k=v`) are converted."""
        from lab import config

        if self.type == "int":
            try:
                number = int(value) if not isinstance(value, bool) else None
            except (TypeError, ValueError):
                number = None
            if number is None:
                raise ValueError(f"{self.name} must be a whole number, not {value!r}")
            if self.minimum is not None and number < self.minimum:
                raise ValueError(f"{self.name} must be at least {self.minimum}, not {number}")
            return number
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE | _FALSE:
                return text in _TRUE
            raise ValueError(f"{self.name} must be true or false, not {value!r}")
        if self.type == "duration":
            if value in (None, "", 0, "0"):
                return None
            seconds = float(value) if isinstance(value, (int, float)) else parse_duration(str(value))
            if seconds <= 0:
                raise ValueError(f"{self.name} must be a positive duration (e.g. 30m), not {value!r}")
            return seconds
        if self.type == "choice":
            text = str(value)
            if text not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}, not {value!r}")
            return text
        if self.type == "region":
            text = str(value)
            if text not in config.REGIONS:
                raise ValueError(f"{self.name} must be one of the sandbox's regions {', '.join(config.REGIONS)}, "
                                 f"not {value!r}")
            return text
        if not isinstance(value, (str, int, float)):
            raise ValueError(f"{self.name} must be text, not {value!r}")
        return str(value)

    def describe(self) -> dict[str, Any]:
        default = self.default
        if self.type == "duration":
            default = format_duration(default) if default else None
        body: dict[str, Any] = {"name": self.name, "type": self.type, "default": default, "help": self.help}
        if self.choices:
            body["choices"] = list(self.choices)
        return body


class Scenario:
    """A failure recipe. `inject` acts through `effects` (which records every change for undoing) and
    returns what it did (counts, names) for the injection record and the drill report."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: Resilience Hub's disruption type the scenario tests: "Software" | "Hardware" | "AZ" | "Region"
    disruption_type: ClassVar[str] = "Software"
    params: ClassVar[tuple[Param, ...]] = ()
    #: parameter holding how long the failure lasts (None: the scenario acts once; its damage stays)
    duration_param: ClassVar[str | None] = None
    #: parameter holding how long after the injection the scenario acts (a scheduled failure)
    delay_param: ClassVar[str | None] = None


    def inject(self, effects: Effects, params: Mapping[str, Any]) -> dict[str, Any]:
        raise TypeError(f"scenario {self.name} does not define inject()")

    @classmethod
    def parse_params(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        declared = {param.name: param for param in cls.params}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise ValueError(f"scenario {cls.name} has no parameter {', '.join(unknown)}; its parameters: "
                             f"{', '.join(declared) or 'none'}")
        values = {}
        for param in cls.params:
            values[param.name] = param.parse(given[param.name]) if param.name in given else param.default
        return values

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {"name": cls.name, "title": cls.title, "description": cls.description,
                "disruption_type": cls.disruption_type, "parameters": [param.describe() for param in cls.params]}
