"""The sandbox's event bus: what happened, told to whoever subscribed, in the order it was published.

Publishers: the sandbox (every AWS call answered through the gateway: CallAnswered) and engines whose
long-running operations move a status on (ResourceStatusChanged). Subscribers: engines, at assembly. What the
engines write straight into the backend (no gateway call shows it) reaches the others through the data layer's
own subscriptions instead (lab.kernel.data.DataAccess.subscribe_object_events, subscribe_item_writes,
subscribe_version_deletes: moto's hooks call them synchronously, inside the write). A subscriber's failure is
logged and does not reach the publisher: the call it observes already happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from lab.kernel.context import RequestContext

log = logging.getLogger("lab.bus")
E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """An AWS call the gateway answered with success (ctx.response is set, status < 400)."""

    ctx: RequestContext


@dataclass(frozen=True, slots=True)
class ResourceStatusChanged:
    """A long-running operation moved a resource's status on (a job COMPLETED, replication CONTINUOUS, an
    instance available): whatever judges the world by those statuses (a drill's recovery) looks again."""

    region: str
    service: str
    resource: str
    status: str


class EventBus:
    def __init__(self) -> None:
        self._listeners: dict[type, list[Callable[[Any], None]]] = {}

    def subscribe(self, topic: type[E], listener: Callable[[E], None]) -> None:
        self._listeners.setdefault(topic, []).append(listener)

    def has_subscribers(self, topic: type) -> bool:
        return bool(self._listeners.get(topic))

    def publish(self, event: object) -> None:
        for listener in self._listeners.get(type(event), ()):
            try:
                listener(event)
            except Exception:  # one subscriber's bug must not fail what already happened
                log.exception("%s failed on %s", getattr(listener, "__qualname__", listener), type(event).__name__)
