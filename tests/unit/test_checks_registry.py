"""The check framework: typed parameters, the registry, messages, crashes, plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from checks import registry
from checks.base import CheckParamError, CheckResult, Param, check, failed, passed
from checks.schedule import max_interval_seconds
from tests.unit.inventory_builder import Inv


def test_every_check_declares_what_it_needs():
    assert len(registry.CHECKS) >= 40
    for spec in registry.CHECKS.values():
        assert spec.id.isupper() and spec.title and spec.description, spec.id
        assert spec.services, spec.id
        assert spec.severity in ("LOW", "MEDIUM", "HIGH", "CRITICAL")
        for param in spec.params:
            assert param.description, f"{spec.id}.{param.name}"
            if param.default is not None:
                param.validate(param.default)  # every default is valid for its own type
        for reason, message in spec.messages.items():
            assert message.strip(), f"{spec.id}: reason {reason} has no message"


def test_aws_config_ids_are_there():
    for check_id in ("S3_BUCKET_VERSIONING_ENABLED", "S3_BUCKET_REPLICATION_ENABLED", "DB_INSTANCE_BACKUP_ENABLED",
                     "RDS_MULTI_AZ_SUPPORT", "DYNAMODB_PITR_ENABLED",
                     "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
                     "BACKUP_RECOVERY_POINT_ENCRYPTED", "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED",
                     "RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "DYNAMODB_RESOURCES_PROTECTED_BY_BACKUP_PLAN",
                     "EBS_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "CLOUDTRAIL_ENABLED"):
        assert registry.get(check_id).source == "aws-config"


def test_unknown_check_id_is_a_clear_key_error():
    with pytest.raises(KeyError, match="unknown check id 'NOPE'"):
        registry.get("NOPE")


@pytest.mark.parametrize("name, value, fragment", [
    ("backupRetentionMinimum", "7", "'backupRetentionMinimum' must be a whole number"),
    ("backupRetentionMinimum", True, "'backupRetentionMinimum' must be a whole number"),
    ("backupRetentionMinimum", 0, "'backupRetentionMinimum' must be at least 1"),
    ("checkReadReplicas", "yes", "'checkReadReplicas' must be true or false"),
    ("dbInstanceIdentifiers", [1, 2], "'dbInstanceIdentifiers' must be a list of names"),
    ("colour", "blue", "unknown parameter 'colour'"),
])
def test_wrong_parameter_names_the_parameter(name, value, fragment):
    with pytest.raises(CheckParamError, match=fragment) as raised:
        registry.run("DB_INSTANCE_BACKUP_ENABLED", Inv().build(), {name: value})
    assert "DB_INSTANCE_BACKUP_ENABLED" in str(raised.value)


def test_parameter_conversions_as_aws_config_writes_them():
    assert Param("l", "string_list").validate("a, b,,c") == ["a", "b", "c"]
    assert Param("t", "tags").validate('{"app": "securecart"}') == {"app": "securecart"}
    assert Param("t", "tags").validate("app:securecart,env:lab") == {"app": "securecart", "env": "lab"}
    assert Param("d", "duration").validate("1h30m") == 5400
    assert Param("d", "duration").validate(90) == 90
    assert Param("n", "integer").validate(7.0) == 7
    with pytest.raises(CheckParamError):
        Param("c", "choice", choices=("a",)).validate("b")
    with pytest.raises(CheckParamError):
        Param("d", "duration").validate("soon")


def test_a_crashing_check_is_an_error_result_not_an_exception():
    @check(id="TEST_CRASH", title="crash", severity="LOW", resource_type="X", services=("s3",), messages={}, hints={})
    def crash(inv, params):
        raise ZeroDivisionError("boom")
        yield  # never reached: it makes `crash` a generator, as checks are

    [result] = crash.run(Inv().build(), {})
    assert (result.status, result.reason) == ("ERROR", "check_failed")
    assert "ZeroDivisionError: boom" in result.message


def test_missing_inventory_part_is_an_error():
    inventory = Inv().build()
    inventory.services = ["rds"]
    [result] = registry.run("S3_BUCKET_VERSIONING_ENABLED", inventory)
    assert (result.status, result.reason) == ("ERROR", "not_collected")
    assert "s3" in result.message


def test_results_round_trip_and_scores():
    @check(id="TEST_PARTIAL", title="partial", severity="LOW", resource_type="X", services=("s3",),
           messages={"ok": "{resource} ok", "bad": "{resource} bad: {detail}"}, hints={"bad": "fix {resource}"})
    def partial(inv, params):
        yield passed("a", "ok")
        yield failed("b", "bad", detail=["x", "y"])

    results = partial.run(Inv().build())
    assert [(r.score, r.max_score) for r in results] == [(1.0, 1.0), (0.0, 1.0)]
    assert results[1].message == "b bad: x, y" and results[1].hint == "fix b"
    assert CheckResult.from_dict(results[1].to_dict()) == results[1]


def test_plugins_register_from_entry_points_and_bad_ones_are_reported():
    @check(id="PLUGIN_EXAMPLE", title="plugin", severity="LOW", resource_type="X", services=("s3",),
           messages={"ok": "ok"}, hints={}, source="example-plugin")
    def plugin(inv, params):
        yield passed("x", "ok")

    good = SimpleNamespace(name="good", value="example:plugin", load=lambda: [plugin])
    broken = SimpleNamespace(name="broken", value="broken:module",
                             load=lambda: (_ for _ in ()).throw(ImportError("no")))
    clash = SimpleNamespace(name="clash", value="clash:spec", load=lambda: registry.get("CLOUDTRAIL_ENABLED").__class__(
        **{**registry.get("CLOUDTRAIL_ENABLED").__dict__, "source": "clash"}))
    try:
        errors = registry.load_plugins([good, broken, clash])
        assert registry.get("PLUGIN_EXAMPLE") is plugin
        assert len(errors) == 2
        assert "plugin broken (broken:module) was not loaded: ImportError: no" in errors[0]
        assert "already registered" in errors[1]
        assert registry.get("CLOUDTRAIL_ENABLED").source == "aws-config"
    finally:
        registry.CHECKS.pop("PLUGIN_EXAMPLE", None)
        for error in errors:
            registry.PLUGIN_ERRORS.remove(error)


@pytest.mark.parametrize("expression, seconds", [
    ("cron(0 5 ? * * *)", 86400), ("cron(0 */12 * * ? *)", 43200), ("cron(0 5 ? * 1 *)", 7 * 86400),
    ("cron(0 5 ? * MON-FRI *)", 3 * 86400), ("rate(4 hours)", 14400), (None, 86400), ("rate(1 day)", 86400),
])
def test_schedule_intervals(expression, seconds):
    assert max_interval_seconds(expression) == seconds


@pytest.mark.parametrize("expression", ["cron(0 5 * *)", "rate(0 hours)", "every day", "cron(99 5 ? * * *)"])
def test_schedule_errors(expression):
    with pytest.raises(ValueError):
        max_interval_seconds(expression)


def test_every_reason_a_check_gives_has_a_message():
    """Reasons written as literals in a check's own function must have a message (or be a common one)."""
    import ast
    import inspect
    import textwrap

    from checks.base import COMMON_MESSAGES

    helpers = {"passed", "failed", "errored", "not_applicable"}
    for spec in registry.CHECKS.values():
        tree = ast.parse(textwrap.dedent(inspect.getsource(spec.func)))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in helpers
                    and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
                reason = node.args[1].value
                assert reason in spec.messages or reason in COMMON_MESSAGES, f"{spec.id}: no message for {reason!r}"


PLUGIN_MODULE = '''
from checks.base import check, passed

@check(id="PLUGIN_ON_PATH", title="plugin", severity="LOW", resource_type="X", services=("s3",),
       messages={"ok": "ok"}, hints={}, source="path-plugin")
def plugin(inv, params):
    yield passed("x", "ok")
'''


def install_plugin(folder: Path, group: str = registry.ENTRY_POINT_GROUP) -> None:
    """A distribution as an installer leaves it: the module, and its .dist-info with the entry point."""
    (folder / "path_plugin.py").write_text(PLUGIN_MODULE)
    info = folder / "path_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: path-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[console_scripts]\npath-plugin = path_plugin:main\n\n"
                                           f"[{group}]\nexample = path_plugin\n")


def registry_in_subprocess(path: Path) -> dict[str, bool]:
    code = ("import json, sys\nfrom checks import registry\n"
            "print(json.dumps({'plugin': 'PLUGIN_ON_PATH' in registry.CHECKS,"
            " 'metadata': 'importlib.metadata' in sys.modules}))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), str(Path(registry.__file__).parents[1])])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                          cwd=path)
    return json.loads(done.stdout)


def test_a_plugin_installed_on_the_path_is_found(tmp_path: Path) -> None:
    install_plugin(tmp_path)
    assert registry.may_declare(registry.ENTRY_POINT_GROUP, [str(tmp_path)])
    assert registry_in_subprocess(tmp_path) == {"plugin": True, "metadata": True}


def test_without_a_plugin_the_metadata_reader_is_not_loaded(tmp_path: Path) -> None:
    install_plugin(tmp_path, group="another.group")
    assert not registry.may_declare(registry.ENTRY_POINT_GROUP, [str(tmp_path)])
    assert registry_in_subprocess(tmp_path) == {"plugin": False, "metadata": False}


def test_what_the_search_cannot_see_into_counts_as_a_plugin(tmp_path: Path) -> None:
    (tmp_path / "bundle.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    assert registry.may_declare(registry.ENTRY_POINT_GROUP, [str(tmp_path / "bundle.zip")])
    (tmp_path / "old.egg").mkdir()
    assert registry.may_declare(registry.ENTRY_POINT_GROUP, [str(tmp_path)])
    assert not registry.may_declare(registry.ENTRY_POINT_GROUP, [str(tmp_path / "missing")])
