"""The scenarios the lab can inject, by name: one explicit list (a new scenario class is added here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lab.services.faults.scenario_data import AccidentalDeletion, BadDeploy, Ransomware
from lab.services.faults.scenario_outages import AzPowerInterruption, RegionOutage, ReplicationPause
from lab.services.faults.scenarios import Scenario

SCENARIOS: Mapping[str, type[Scenario]] = {
    cls.name: cls for cls in (AccidentalDeletion, Ransomware, BadDeploy, RegionOutage, AzPowerInterruption,
                              ReplicationPause)
}


def load_scenarios() -> Mapping[str, type[Scenario]]:
    return SCENARIOS


def get_scenario(name: str) -> type[Scenario]:
    if name not in SCENARIOS:
        raise KeyError(f"no scenario named {name!r}; the scenarios are {', '.join(sorted(SCENARIOS))}")
    return SCENARIOS[name]


def scenario_problems(name: str, params: Mapping[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """What is wrong with a scenario reference (for `lab validate`): each problem is (path below the drill
    entry, message): ("scenario",) for an unknown name, ("params", NAME) for a bad parameter."""
    try:
        scenario = get_scenario(name)
    except KeyError as exc:
        return [(("scenario",), str(exc.args[0]))]
    declared = {param.name: param for param in scenario.params}
    problems: list[tuple[tuple[Any, ...], str]] = []
    for key, value in params.items():
        param = declared.get(key)
        if param is None:
            problems.append((("params", key), f"scenario {name} has no parameter {key!r}; its parameters: "
                                              f"{', '.join(declared) or 'none'}"))
            continue
        try:
            param.parse(value)
        except ValueError as exc:
            problems.append((("params", key), str(exc)))
    return problems
