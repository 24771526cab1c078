"""How the inventory's typed schema was chosen: dataclasses, msgspec Structs and pydantic v2 models, measured
on the same shape (an AWS Backup recovery point, 15 fields with a nested lifecycle, as the inventory holds
thousands of them in a month-old world) for what the inventory does with it.

Run: .venv/bin/python benchmarks/bench_schema_libraries.py [--count 5000]
Figures: import time (a fresh interpreter), building the models from collected values (the sandbox), encoding
them to JSON (the sandbox's answer, an export), decoding JSON into validated models (the `lab` command, an
instructor's re-judging of an export), and reading every field (the checks). Timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import time
import timeit
import types
import typing
from typing import Any

import msgspec
import orjson
import pydantic


def reference_us() -> float:
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


# -- the same shape three ways ----------------------------------------------------------------------------

class LifecycleS(msgspec.Struct, kw_only=True):
    delete_after_days: int | None = None
    move_to_cold_after_days: int | None = None


class PointS(msgspec.Struct, kw_only=True):
    arn: str
    region: str
    vault: str
    resource_arn: str | None = None
    resource_type: str | None = None
    status: str | None = None
    created: str | None = None
    completed: str | None = None
    encrypted: bool = False
    encryption_key: str | None = None
    lifecycle: LifecycleS = msgspec.field(default_factory=LifecycleS)
    delete_at: str | None = None
    source_vault_arn: str | None = None
    plan_id: str | None = None
    tags: dict[str, str] = msgspec.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True, slots=True)
class LifecycleD:
    delete_after_days: int | None = None
    move_to_cold_after_days: int | None = None


@dataclasses.dataclass(kw_only=True, slots=True)
class PointD:
    arn: str
    region: str
    vault: str
    resource_arn: str | None = None
    resource_type: str | None = None
    status: str | None = None
    created: str | None = None
    completed: str | None = None
    encrypted: bool = False
    encryption_key: str | None = None
    lifecycle: LifecycleD = dataclasses.field(default_factory=LifecycleD)
    delete_at: str | None = None
    source_vault_arn: str | None = None
    plan_id: str | None = None
    tags: dict[str, str] = dataclasses.field(default_factory=dict)


class LifecycleP(pydantic.BaseModel):
    delete_after_days: int | None = None
    move_to_cold_after_days: int | None = None


class PointP(pydantic.BaseModel):
    arn: str
    region: str
    vault: str
    resource_arn: str | None = None
    resource_type: str | None = None
    status: str | None = None
    created: str | None = None
    completed: str | None = None
    encrypted: bool = False
    encryption_key: str | None = None
    lifecycle: LifecycleP = pydantic.Field(default_factory=LifecycleP)
    delete_at: str | None = None
    source_vault_arn: str | None = None
    plan_id: str | None = None
    tags: dict[str, str] = pydantic.Field(default_factory=dict)


POINTS_P = pydantic.TypeAdapter(list[PointP])


def values(number: int) -> dict[str, Any]:
    return {"arn": f"arn:aws:backup:us-east-1:000000000000:recovery-point:rp-{number:06d}", "region": "us-east-1",
            "vault": "main", "resource_arn": "arn:aws:dynamodb:us-east-1:000000000000:table/securecart-order-history",
            "resource_type": "DynamoDB", "status": "COMPLETED", "created": "2026-03-01T12:00:00Z",
            "completed": "2026-03-01T12:05:00Z", "encrypted": True, "encryption_key": "arn:aws:kms:x:key/1",
            "delete_at": "2026-04-05T12:00:00Z", "source_vault_arn": None, "plan_id": "plan-1",
            "tags": {"app": "securecart"}}


_HINTS: dict[type, dict[str, Any]] = {}


def dataclass_from(cls: Any, data: Any) -> Any:
    """A typed, checked conversion for dataclasses (what a library does for the other two)."""
    hints = _HINTS.get(cls) or _HINTS.setdefault(cls, typing.get_type_hints(cls))
    kwargs = {}
    for field in dataclasses.fields(cls):
        if field.name not in data:
            continue
        value, hint = data[field.name], hints[field.name]
        if dataclasses.is_dataclass(hint):
            value = dataclass_from(hint, value)
        else:
            union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
            allowed = typing.get_args(hint) if union else (hint,)
            if not any(value is None if kind is type(None) else isinstance(value, typing.get_origin(kind) or kind)
                       for kind in allowed):
                raise TypeError(f"{cls.__name__}.{field.name}: {value!r} is not {hint}")
        kwargs[field.name] = value
    return cls(**kwargs)


def measure(label: str, action: Any, repeat: int = 5) -> float:
    best = min(timeit.repeat(action, number=1, repeat=repeat)) * 1000
    print(f"    {label:44} {best:8.2f} ms")
    return best


def import_ms(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"
    samples = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout) for _ in range(5)]
    return min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    raw = [values(number) for number in range(args.count)]
    print(f"{args.count} recovery points; cpu ref {reference_us():.1f} us per sum(range(1000))")

    print("  import (fresh interpreter, best of 5)")
    for module in ("dataclasses", "msgspec", "pydantic"):
        print(f"    {module:44} {import_ms(module):8.2f} ms")

    def build_d() -> list[PointD]:
        return [PointD(**{**r, "lifecycle": LifecycleD(delete_after_days=35)}) for r in raw]

    def build_s() -> list[PointS]:
        return [PointS(**{**r, "lifecycle": LifecycleS(delete_after_days=35)}) for r in raw]

    def build_p() -> list[PointP]:
        return [PointP(**{**r, "lifecycle": LifecycleP(delete_after_days=35)}) for r in raw]

    made_d, made_s, made_p = build_d(), build_s(), build_p()
    text = msgspec.json.encode(made_s)
    encoder = msgspec.json.Encoder()
    decoder = msgspec.json.Decoder(list[PointS])
    print(f"  JSON: {len(text) / 1024:.0f} KiB")
    for name, build, encode, decode in (
            ("dataclasses (+ orjson)", build_d, lambda: orjson.dumps(made_d),
             lambda: [dataclass_from(PointD, item) for item in orjson.loads(text)]),
            ("msgspec Struct", build_s, lambda: encoder.encode(made_s), lambda: decoder.decode(text)),
            ("pydantic v2 BaseModel", build_p, lambda: POINTS_P.dump_json(made_p),
             lambda: POINTS_P.validate_json(text))):
        print(f"  {name}")
        measure("build from collected values", build)
        measure("encode to JSON", encode)
        measure("decode JSON into validated models", decode)
        models = decode()
        started = time.perf_counter()
        for _ in range(5):
            sum(1 for p in models if p.status == "COMPLETED" and p.lifecycle.delete_after_days and p.encrypted)
        print(f"    {'read three fields of each':44} {(time.perf_counter() - started) / 5 * 1000:8.2f} ms")


if __name__ == "__main__":
    main()
