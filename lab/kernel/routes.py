"""The admin API's route table: `/_lab/<path>` -> a handler, filled explicitly at assembly.

Each package that has admin routes defines `register(router)`, which the sandbox's assembly calls; nothing
registers by being imported. A handler takes the sandbox and the request and returns `(status, json-able
body)`; it raises ValueError for a 400 (the message is the answer's error). `journal=True` marks routes that
change the lab's state: they run serialised with AWS calls and are replayed after a crash like them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.kernel.context import RequestContext
    from lab.kernel.port import Sandbox

PREFIX = "/_lab/"

Handler = Callable[["Sandbox", "RequestContext"], tuple[int, Any]]


@dataclass(frozen=True, slots=True)
class AdminRoute:
    method: str
    path: str  # below /_lab/; "drills/*" matches drills/<anything> (the handler reads ctx.path)
    handler: Handler
    journal: bool = False


class AdminRouter:
    """Routes by (method, path); one per sandbox."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], AdminRoute] = {}

    def add(self, method: str, path: str, handler: Handler, *, journal: bool = False) -> None:
        key = (method.upper(), path.strip("/"))
        if key in self._routes and self._routes[key].handler is not handler:
            raise ValueError(f"two admin routes for {key[0]} /_lab/{key[1]}")
        self._routes[key] = AdminRoute(key[0], key[1], handler, journal)

    def find(self, method: str, path: str) -> AdminRoute | None:
        """The route for `path` (below /_lab/, no leading slash); a "name/*" route serves name/<anything>."""
        name = path.strip("/")
        found = self._routes.get((method, name))
        if found is None and "/" in name:
            found = self._routes.get((method, name.split("/", 1)[0] + "/*"))
        return found

    def methods_for(self, path: str) -> list[str]:
        name = path.strip("/")
        wildcard = name.split("/", 1)[0] + "/*" if "/" in name else None
        return sorted(m for m, p in self._routes if p in (name, wildcard))

    def __iter__(self) -> Iterator[AdminRoute]:
        return iter(sorted(self._routes.values(), key=lambda r: (r.path, r.method)))

    def __len__(self) -> int:
        return len(self._routes)


def json_body(ctx: RequestContext) -> dict[str, Any]:
    """The request's JSON object body ({} when empty); ValueError (a 400) when it is anything else."""
    if not ctx.body:
        return {}
    try:
        value = json.loads(ctx.body)
    except RecursionError:
        raise ValueError("request body nests deeper than any admin request can") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"request body is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError("request body must be a JSON object")
    return value


def query_flag(ctx: RequestContext, name: str, default: bool = False) -> bool:
    """A yes/no query parameter: absent -> default; "0", "false", "no" and "" -> False."""
    values = ctx.query_params().get(name)
    if not values:
        return default
    return values[0].lower() not in ("0", "false", "no", "")
