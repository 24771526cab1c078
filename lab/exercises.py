"""Exercise files: load the labs (YAML, one per lab) and validate them with file:line:column problems.

A lab's file is checked in three passes, every problem pointing at the node it is about:
  1. YAML syntax (the parser's own mark), duplicate keys (which YAML would silently merge);
  2. the shipped JSON Schema `exercises/schema.json` (missing or unknown fields, wrong types);
  3. the lab's registries: every check id exists (`checks.registry.CHECKS`, plugins included), its
     parameters are known and of the right type, and the drill's scenarios exist with valid parameters.

The YAML is composed into nodes (keeping each node's start mark) and only then turned into Python values,
so a problem found in pass 2 or 3 still knows where in the file its value was written.

Exercise files come from instructors and the Internet, so reading one is bounded: only a regular file of at
most MAX_EXERCISE_FILE_BYTES is read, and the YAML loader (`load_marked`, the one every reader of user
YAML goes through) refuses alias bombs, deep nesting, overlong scalars and integers too long to convert,
each as a `FILE:LINE:COLUMN: bad YAML: ...` problem at the node that crossed the limit.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.errors import LabError
from lab.safety import RefusedFileError, read_regular_file
from lab.sim.clock import parse_duration

if TYPE_CHECKING:
    import yaml

REPO_EXERCISES_DIR = Path(__file__).resolve().parent.parent / "exercises"
SCHEMA_PATH = REPO_EXERCISES_DIR / "schema.json"
ENV_DIR = "LAB_EXERCISES_DIR"
PHASES = ("configure", "recover")

JsonPath = tuple[Any, ...]

# Limits of what an exercise file may hold: the shipped labs stay far below every one (the largest file is
# 13 KB, 8 levels deep, with no alias), while each stops a file built to exhaust memory or the stack.
MAX_EXERCISE_FILE_BYTES = 1 << 20
MAX_YAML_DEPTH = 32  # lists and mappings inside each other
MAX_YAML_ALIASES = 50  # *name references to &name anchors
MAX_YAML_VALUES = 50_000  # values once every alias is expanded (a few aliases can still multiply)
MAX_YAML_SCALAR_CHARS = 65_536
MAX_YAML_INT_DIGITS = 32  # Python refuses to convert more than 4,300; no field needs more than a few
_INT_TAG = "tag:yaml.org,2002:int"


# -- the model ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckRef:
    id: str
    weight: float = 1.0
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    instructions_md: str
    hints: tuple[str, ...]
    checks: tuple[CheckRef, ...]


@dataclass(frozen=True)
class DrillSpec:
    """A failure scenario of issue 4 and its parameters; `then` are further scenarios of the same incident."""

    scenario: str
    params: Mapping[str, Any] = field(default_factory=dict)
    briefing_md: str = ""
    after_seconds: int = 0  # for a follow-up scenario: how long after the previous one it starts
    then: tuple[DrillSpec, ...] = ()

    def schedule(self) -> list[tuple[int, str, dict[str, Any]]]:
        """Every scenario of the incident as (seconds after the incident time, scenario, params), in order:
        this one at 0, then each of `then` `after_seconds` after the one before it."""
        offset = 0
        timeline = [(0, self.scenario, dict(self.params))]
        for follow_up in self.then:
            offset += follow_up.after_seconds
            timeline.append((offset, follow_up.scenario, dict(follow_up.params)))
        return timeline


@dataclass(frozen=True)
class Targets:
    rto_seconds: int
    rpo_seconds: int


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    objectives: tuple[str, ...]
    estimated_minutes: int
    steps: tuple[Step, ...]
    drill: DrillSpec | None
    recovery_checks: tuple[CheckRef, ...]
    targets: Targets
    pass_mark: float
    source_path: Path
    summary_md: str = ""
    recovery_instructions_md: str = ""
    recovery_hints: tuple[str, ...] = ()

    def step(self, key: int | str) -> Step:
        """A step by its number (1-based) or its id; KeyError naming the steps there are."""
        if isinstance(key, int) or (isinstance(key, str) and key.isascii() and key.isdigit()):
            number = int(key)
            if 1 <= number <= len(self.steps):
                return self.steps[number - 1]
        else:
            for step in self.steps:
                if step.id == key:
                    return step
        choices = ", ".join(f"{n} ({s.id})" for n, s in enumerate(self.steps, start=1))
        raise KeyError(f"lab {self.id} has no step {key!r}; its steps are {choices}")

    def checks(self, phase: str = "all") -> list[CheckRef]:
        """The check references of a phase: configure (the steps'), recover, or all."""
        if phase not in (*PHASES, "all"):
            raise ValueError(f"unknown phase {phase!r}; one of configure, recover, all")
        found: list[CheckRef] = []
        if phase in ("configure", "all"):
            found.extend(check for step in self.steps for check in step.checks)
        if phase in ("recover", "all"):
            found.extend(self.recovery_checks)
        return found


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int  # 1-based
    column: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class ExerciseError(LabError):
    """Exercise files that cannot be used; the message lists every problem as file:line:column."""

    exit_code = 1

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{len(problems)} problem(s) in the exercise files:\n{listed}")


# -- YAML with a position for every value ------------------------------------------------------------

@dataclass
class MarkedDocument:
    """A parsed YAML document and where each value (and each mapping key) starts in the file."""

    data: Any
    value_marks: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Iterable[Any], *, key: bool = False) -> tuple[int, int]:
        """(line, column), 1-based, of the value at `path` (or its key), else of its nearest parent."""
        current = tuple(path)
        if key and current in self.key_marks:
            return self.key_marks[current]
        while current:
            if current in self.value_marks:
                return self.value_marks[current]
            current = current[:-1]
        return self.value_marks.get((), (1, 1))


def _one_based(mark: yaml.Mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


@lru_cache(maxsize=1)
def _bounded_loader() -> tuple[type[Exception], type[Any]]:
    """(RefusedYamlError, BoundedLoader), defined when a file is first parsed: a command that loads only labs
    validated before (lab.validation_cache) does not load PyYAML."""
    import yaml

    class RefusedYamlError(yaml.MarkedYAMLError):
        """A YAML document the loader refuses -- beyond one of its limits, or a value its type cannot hold --
        marked at the node concerned."""

        def __init__(self, mark: yaml.Mark | None, problem: str) -> None:
            super().__init__(problem=problem, problem_mark=mark)

    class BoundedLoader(yaml.SafeLoader):
        """PyYAML's safe loader with limits on nesting, aliases, scalar length and integer digits.

        The checks run while the document is composed into nodes, before any value is built: the composer
        recurses once per level (so a deep document would end in a RecursionError), and an integer of 100,001
        digits would fail in int() with a ValueError. Expanding aliases is bounded where values are built
        (`load_marked`), since a handful of aliases may still stand for millions of values.
        """

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.depth = 0
            self.aliases = 0

        def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_YAML_ALIASES:
                    raise RefusedYamlError(event.start_mark, f"more than {MAX_YAML_ALIASES} aliases (*name); "
                                                              "write the values out instead")
                return super().compose_node(parent, index)
            self.depth += 1
            try:
                if self.depth > MAX_YAML_DEPTH:
                    raise RefusedYamlError(event.start_mark, f"nesting deeper than {MAX_YAML_DEPTH} levels "
                                                              "(lists and mappings inside each other)")
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def compose_scalar_node(self, anchor: str | None) -> yaml.ScalarNode:
            node = super().compose_scalar_node(anchor)
            if node.tag == _INT_TAG:
                digits = sum(character.isalnum() for character in node.value)
                if digits > MAX_YAML_INT_DIGITS:
                    raise RefusedYamlError(node.start_mark, f"a number of {digits:,} digits; at most "
                                                             f"{MAX_YAML_INT_DIGITS} are allowed")
            if len(node.value) > MAX_YAML_SCALAR_CHARS:
                raise RefusedYamlError(node.start_mark, f"a value of {len(node.value):,} characters; at most "
                                                         f"{MAX_YAML_SCALAR_CHARS:,} are allowed")
            return node

    return RefusedYamlError, BoundedLoader


def _yaml_problem(exc: yaml.MarkedYAMLError, source: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = _one_based(mark) if mark else (1, 1)
    what = " ".join(filter(None, [exc.context, exc.problem])) or str(exc)
    return Problem(source, line, column, f"bad YAML: {what}")


def load_marked(text: str, source: str) -> tuple[MarkedDocument | None, list[Problem]]:
    """Parse one YAML document keeping marks; syntax errors, duplicate keys and documents beyond the
    loader's limits (BoundedLoader, MAX_YAML_VALUES) become problems. The one loader for YAML a user wrote."""
    import yaml

    refused_yaml_error, bounded_loader = _bounded_loader()
    problems: list[Problem] = []
    loader = bounded_loader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            return None, [_yaml_problem(exc, source)]
        except yaml.YAMLError as exc:
            return None, [Problem(source, 1, 1, f"bad YAML: {exc}")]
        if root is None:
            return None, [Problem(source, 1, 1,
                                  "the file is empty; an exercise is a YAML mapping (id, title, steps, ...)")]
        document = MarkedDocument(data=None)
        built = 0

        def construct(node: yaml.Node) -> Any:
            try:
                return loader.construct_object(node, deep=True)
            except (ValueError, OverflowError, TypeError) as exc:  # e.g. the date 2026-13-01
                shown = node.value if isinstance(node, yaml.ScalarNode) else node.tag
                raise refused_yaml_error(node.start_mark, f"{shown!r} cannot be read as "
                                                         f"{node.tag.rsplit(':', 1)[-1]}: {exc}") from exc

        def build(node: yaml.Node, path: JsonPath) -> Any:
            nonlocal built
            built += 1
            if built > MAX_YAML_VALUES:
                raise refused_yaml_error(node.start_mark, f"the document expands to more than {MAX_YAML_VALUES:,} "
                                                         "values (aliases repeated inside aliases)")
            if len(path) >= MAX_YAML_DEPTH:  # only an alias can lead here: one that refers to itself
                raise refused_yaml_error(node.start_mark, f"nesting deeper than {MAX_YAML_DEPTH} levels "
                                                         "(an alias inside the value it names)")
            document.value_marks[path] = _one_based(node.start_mark)
            if isinstance(node, yaml.MappingNode):
                loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
                mapping: dict[Any, Any] = {}
                for key_node, value_node in node.value:
                    key = construct(key_node)
                    line, column = _one_based(key_node.start_mark)
                    if not isinstance(key, (str, int, float, bool)) or key is None:
                        problems.append(Problem(source, line, column,
                                                f"a mapping key must be a plain name, not {key!r}"))
                        continue
                    if key in mapping:
                        first = document.key_marks[(*path, key)]
                        problems.append(Problem(source, line, column,
                                                f"duplicate key {key!r} (first written at line {first[0]})"))
                        continue
                    document.key_marks[(*path, key)] = (line, column)
                    mapping[key] = build(value_node, (*path, key))
                return mapping
            if isinstance(node, yaml.SequenceNode):
                return [build(item, (*path, index)) for index, item in enumerate(node.value)]
            return construct(node)

        try:
            document.data = build(root, ())
        except yaml.MarkedYAMLError as exc:  # e.g. a tag the safe loader does not know
            mark = exc.problem_mark or exc.context_mark
            line, column = _one_based(mark) if mark else (1, 1)
            return None, [Problem(source, line, column, f"bad YAML: {exc.problem or exc}")]
        return document, problems
    finally:
        loader.dispose()


# -- validation --------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _schema_validator() -> Any:
    import jsonschema

    try:
        schema = json.loads(SCHEMA_PATH.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise LabError(f"the exercise schema {SCHEMA_PATH} cannot be read: {exc}") from exc
    return jsonschema.Draft202012Validator(schema)


def describe_path(path: Iterable[Any]) -> str:
    """('steps', 1, 'checks', 0, 'weight') -> 'steps[1].checks[0].weight' (the file's own indexes, 0-based)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the file"


_TYPE_NAMES = {"string": "text", "integer": "a whole number", "number": "a number", "object": "a mapping",
               "array": "a list", "boolean": "true or false", "null": "nothing"}


def _schema_problems(document: MarkedDocument, source: str) -> list[Problem]:
    problems: list[Problem] = []
    for error in _schema_validator().iter_errors(document.data):
        path = tuple(error.absolute_path)
        where = describe_path(path)
        validator = error.validator
        if validator == "required":
            missing = [name for name in error.validator_value if name not in error.instance]
            line, column = document.position(path)
            for name in missing:
                problems.append(Problem(source, line, column, f"{where}: missing field {name!r}"))
            continue
        if validator == "dependentRequired":
            line, column = document.position(path)
            for present, needed in error.validator_value.items():
                for name in needed:
                    if present in error.instance and name not in error.instance:
                        problems.append(Problem(source, *document.position((*path, present), key=True),
                                                f"{where}: {present!r} needs {name!r} too"))
            continue
        if validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            for name in error.instance:
                if name not in allowed:
                    line, column = document.position((*path, name), key=True)
                    problems.append(Problem(source, line, column,
                                            f"{describe_path((*path, name))}: unknown field {name!r}; "
                                            f"allowed here: {', '.join(allowed)}"))
            continue
        line, column = document.position(path)
        if validator == "type":
            expected = error.validator_value
            names = [expected] if isinstance(expected, str) else list(expected)
            message = (f"{where}: expected {' or '.join(_TYPE_NAMES.get(n, n) for n in names)}, "
                       f"got {_show(error.instance)}")
        elif validator == "oneOf" and path and path[-1] in ("rto", "rpo", "after"):
            message = f"{where}: expected seconds or a duration such as 90s, 15m, 4h, 1d, got {_show(error.instance)}"
        elif validator == "pattern":
            message = f"{where}: {_show(error.instance)} does not match the expected form {error.validator_value}"
        elif validator in ("minItems", "minLength"):
            message = f"{where}: must not be empty"
        else:
            message = f"{where}: {error.message}"
        problems.append(Problem(source, line, column, message))
    return problems


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "a mapping", type(None): "nothing"}.get(type(value), type(value).__name__)
    return f"{kind} {text if len(text) <= 60 else text[:57] + '...'}"


def _check_entries(data: Any) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """Every check reference in a (possibly malformed) exercise, with its path."""
    if not isinstance(data, dict):
        return
    steps = data.get("steps")
    if isinstance(steps, list):
        for s, step in enumerate(steps):
            if isinstance(step, dict) and isinstance(step.get("checks"), list):
                for c, check in enumerate(step["checks"]):
                    if isinstance(check, dict):
                        yield ("steps", s, "checks", c), check
    recovery = data.get("recovery")
    if isinstance(recovery, dict) and isinstance(recovery.get("checks"), list):
        for c, check in enumerate(recovery["checks"]):
            if isinstance(check, dict):
                yield ("recovery", "checks", c), check


def _registry_problems(document: MarkedDocument, source: str) -> list[Problem]:
    from lab.services.faults.catalog import scenario_problems

    problems: list[Problem] = []
    data = document.data
    for path, check in _check_entries(data):
        check_id = check.get("id")
        if not isinstance(check_id, str):
            continue
        params = check.get("params", {})
        for where, message in check_problems(check_id, params if isinstance(params, dict) else {}):
            full = (*path, *where)
            problems.append(Problem(source, *document.position(full, key=where[:1] == ("params",)),
                                    f"{describe_path(full)}: {message}"))
    if isinstance(data, dict) and isinstance(data.get("drill"), dict):
        drill = data["drill"]
        chain: list[tuple[JsonPath, Any]] = [(("drill",), drill)]
        if isinstance(drill.get("then"), list):
            chain += [(("drill", "then", i), item) for i, item in enumerate(drill["then"])]
        for path, item in chain:
            if not isinstance(item, dict) or not isinstance(item.get("scenario"), str):
                continue
            params = item.get("params", {})
            for where, message in scenario_problems(item["scenario"], params if isinstance(params, dict) else {}):
                full = (*path, *where)
                problems.append(Problem(source, *document.position(full, key=len(where) > 1),
                                        f"{describe_path(full)}: {message}"))
    steps = data.get("steps") if isinstance(data, dict) else None
    if isinstance(steps, list):
        seen: dict[str, int] = {}
        for index, step in enumerate(steps):
            if isinstance(step, dict) and isinstance(step.get("id"), str):
                if step["id"] in seen:
                    problems.append(Problem(source, *document.position(("steps", index, "id")),
                                            f"steps[{index}].id: duplicate step id {step['id']!r} "
                                            f"(also steps[{seen[step['id']]}])"))
                seen.setdefault(step["id"], index)
    if isinstance(data, dict) and isinstance(data.get("targets"), dict):
        for name in ("rto", "rpo"):
            value = data["targets"].get(name)
            if isinstance(value, str):
                try:
                    parse_duration(value)
                except ValueError as exc:
                    problems.append(Problem(source, *document.position(("targets", name)), f"targets.{name}: {exc}"))
    return problems


def check_problems(check_id: str, params: Mapping[str, Any]) -> list[tuple[JsonPath, str]]:
    """What is wrong with a check reference: an unknown id, unknown or mistyped parameters.

    Each problem is (path below the check entry, message); () is the entry's id.
    """
    from checks import registry

    try:
        spec = registry.get(check_id)
    except KeyError:
        known = sorted(registry.CHECKS)
        close = difflib.get_close_matches(check_id, known, n=3, cutoff=0.75)
        suggestion = f"; did you mean {', '.join(close)}?" if close else ""
        return [(("id",), f"unknown check id {check_id!r}{suggestion} (lab validate knows {len(known)} checks; "
                          "plugins register more in the entry-point group securecart_lab.checks)")]
    problems: list[tuple[JsonPath, str]] = []
    declared = {param.name: param for param in spec.params}
    for name, value in params.items():
        param = declared.get(name)
        if param is None:
            allowed = ", ".join(sorted(declared)) or "none"
            problems.append((("params", name), f"unknown parameter {name!r} of {check_id}; its parameters: {allowed}"))
            continue
        error = param_type_error(param, value)
        if error:
            problems.append((("params", name), f"{check_id}: {error}"))
    return problems


def param_type_error(param: Any, value: Any) -> str | None:
    """None if `value` fits the declared parameter, else what is wrong (uses the registry's own validation)."""
    validate = getattr(param, "validate", None)
    if callable(validate):
        try:
            validate(value)
        except (TypeError, ValueError) as exc:
            return str(exc)
    return None


def validate_text(text: str, source: str) -> tuple[MarkedDocument | None, list[Problem]]:
    document, problems = load_marked(text, source)
    if document is None:
        return None, problems
    if not isinstance(document.data, dict):
        return None, [*problems, Problem(
            source, *document.position(()),
            f"an exercise is a YAML mapping (id, title, steps, ...), not {_show(document.data)}")]
    problems += _schema_problems(document, source)
    problems += _registry_problems(document, source)
    return document, sorted(set(problems), key=lambda p: (p.path, p.line, p.column, p.message))


def exercise_files(path: Path) -> list[Path]:
    """The exercise files at `path`: the file itself, or the *.yaml / *.yml entries of a folder (folders aside;
    a FIFO or a link to a device is listed, so that reading it reports it instead of skipping it unseen)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and not p.is_dir())
    return [path]


def validate(path: Path | str) -> list[Problem]:
    """Every problem of the exercise file or folder at `path` (an empty list when all is well)."""
    path = Path(path)
    if not path.exists():
        return [Problem(str(path), 1, 1, "no such file or folder")]
    files = exercise_files(path)
    if not files:
        return [Problem(str(path), 1, 1, "the folder holds no exercise files (*.yaml)")]
    problems: list[Problem] = []
    first_by_id: dict[str, tuple[Path, tuple[int, int]]] = {}
    for file in files:
        document, found = _validate_file(file)
        problems += found
        if document is not None and isinstance(document.data.get("id"), str):
            lab_id = document.data["id"]
            where = document.position(("id",))
            if lab_id in first_by_id:
                other, other_where = first_by_id[lab_id]
                problems.append(Problem(str(file), *where,
                                        f"id: lab id {lab_id!r} is also used by {other}:{other_where[0]}"))
            else:
                first_by_id[lab_id] = (file, where)
    return problems


def _validate_file(file: Path) -> tuple[MarkedDocument | None, list[Problem]]:
    try:
        text = read_regular_file(file, MAX_EXERCISE_FILE_BYTES).decode("utf-8")
    except RefusedFileError as exc:
        why = "the limit of an exercise file" if exc.too_large else "exercise files are plain files"
        return None, [Problem(str(file), 1, 1, f"{exc}; {why}")]
    except UnicodeDecodeError as exc:
        return None, [Problem(str(file), 1, 1, f"not UTF-8 text: {exc.reason} at byte {exc.start}")]
    except OSError as exc:
        return None, [Problem(str(file), 1, 1, f"cannot be read: {exc.strerror or exc}")]
    return validate_text(text, str(file))


# -- loading -----------------------------------------------------------------------------------------

def default_dirs() -> list[Path]:
    """The repo's exercises, then the instructor's folder (LAB_EXERCISES_DIR), whose labs win on equal ids."""
    dirs = [REPO_EXERCISES_DIR]
    extra = os.environ.get(ENV_DIR)
    if extra:
        dirs.append(Path(extra).expanduser())
    return dirs


_LOADED: dict[Path, tuple[tuple[int, int], Exercise]] = {}  # file -> (its mtime and size, the lab it holds)


def load_file(file: Path) -> Exercise:
    """One exercise file, or ExerciseError listing its problems (a file loads once until it changes)."""
    path = Path(file).resolve()
    try:
        stat = path.stat()
        version = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = (-1, -1)
    cached = _LOADED.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    exercise = _load_validated(path)
    if exercise is None:
        document, problems = _validate_file(path)
        if problems or document is None:
            raise ExerciseError(problems)
        exercise = _build(document.data, path)
        _remember_valid(path, document.data)
    _LOADED[path] = (version, exercise)
    return exercise


def _load_validated(path: Path) -> Exercise | None:
    """The lab, when this very file passed validation before (lab.validation_cache): built from the values
    kept with it, else from its YAML parsed again; None when it must be validated."""
    from lab import validation_cache

    try:
        content = read_regular_file(path, MAX_EXERCISE_FILE_BYTES)
        known, data = validation_cache.validated_data(validation_cache.key_of(content))
        if not known:
            return None
        return _build(_parse_validated(content) if data is None else data, path)
    except (OSError, KeyError, TypeError, ValueError):  # (RefusedFileError is a ValueError)
        return None  # validated again, and its problems reported


def _parse_validated(content: bytes) -> Any:
    """The values of a file that passed validation before (no marks, no limits needed: parsed at C speed)."""
    import yaml

    try:
        return yaml.load(content, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 -- safe loaders
    except yaml.YAMLError as exc:
        raise ValueError(f"the file no longer parses: {exc}") from exc


def _remember_valid(path: Path, data: Any) -> None:
    from lab import validation_cache

    try:
        content = read_regular_file(path, MAX_EXERCISE_FILE_BYTES)
    except (OSError, RefusedFileError):
        return
    validation_cache.remember(validation_cache.key_of(content), data)


def load_all(dirs: list[Path] | None = None) -> dict[str, Exercise]:
    """Every lab of the folders, by id, in id order; ExerciseError when any file has problems."""
    exercises: dict[str, Exercise] = {}
    problems: list[Problem] = []
    for directory in (default_dirs() if dirs is None else dirs):
        directory = Path(directory)
        if not directory.is_dir():
            problems.append(Problem(str(directory), 1, 1, "the exercises folder does not exist"))
            continue
        from_here: dict[str, Exercise] = {}
        for file in exercise_files(directory):
            try:
                exercise = load_file(file)
            except ExerciseError as exc:
                problems += exc.problems
                continue
            if exercise.id in from_here:
                problems.append(Problem(str(file), 1, 1, f"lab id {exercise.id!r} is also used by "
                                                          f"{from_here[exercise.id].source_path}"))
                continue
            from_here[exercise.id] = exercise
        exercises.update(from_here)
    if problems:
        raise ExerciseError(problems)
    return dict(sorted(exercises.items()))


def load(lab_id: str, dirs: list[Path] | None = None) -> Exercise:
    """One lab by id (or by its number: '3' or '03' finds 03-rds-snapshot-restore)."""
    exercises = load_all(dirs)
    if lab_id in exercises:
        return exercises[lab_id]
    if lab_id.isascii() and lab_id.isdigit():  # ("\u00b2" is a digit to str.isdigit, not to int())
        prefix = f"{int(lab_id):02d}-"
        matches = [ex for key, ex in exercises.items() if key.startswith(prefix)]
        if len(matches) == 1:
            return matches[0]
    raise LabError(f"no lab {lab_id!r}; the labs are: {', '.join(exercises) or 'none'}")


def _duration_seconds(value: int | str) -> int:
    return int(value) if isinstance(value, int) else int(parse_duration(value))


def _check_refs(entries: list[dict[str, Any]]) -> tuple[CheckRef, ...]:
    return tuple(CheckRef(id=entry["id"], weight=float(entry.get("weight", 1)),
                          params=dict(entry.get("params") or {})) for entry in entries)


def _drill(entry: dict[str, Any]) -> DrillSpec:
    return DrillSpec(
        scenario=entry["scenario"], params=dict(entry.get("params") or {}),
        briefing_md=entry.get("briefing", ""),
        then=tuple(DrillSpec(scenario=item["scenario"], params=dict(item.get("params") or {}),
                             after_seconds=_duration_seconds(item.get("after", 0)))
                   for item in entry.get("then", [])),
    )


def _build(data: dict[str, Any], source: Path) -> Exercise:
    recovery = data.get("recovery") or {}
    return Exercise(
        id=data["id"],
        title=data["title"],
        objectives=tuple(data["objectives"]),
        estimated_minutes=int(data["estimated_minutes"]),
        steps=tuple(Step(id=step["id"], title=step["title"], instructions_md=step["instructions"],
                         hints=tuple(step.get("hints", [])), checks=_check_refs(step["checks"]))
                    for step in data["steps"]),
        drill=_drill(data["drill"]) if "drill" in data else None,
        recovery_checks=_check_refs(recovery.get("checks", [])),
        targets=Targets(rto_seconds=_duration_seconds(data["targets"]["rto"]),
                        rpo_seconds=_duration_seconds(data["targets"]["rpo"])),
        pass_mark=float(data["pass_mark"]),
        source_path=source,
        summary_md=data.get("summary", ""),
        recovery_instructions_md=recovery.get("instructions", ""),
        recovery_hints=tuple(recovery.get("hints", [])),
    )


def solutions_dir(exercise: Exercise) -> Path:
    """Where a lab's reference solutions live: solutions/<id>/ beside its exercise file."""
    return exercise.source_path.parent / "solutions" / exercise.id
