"""The audit trail of money and schedule settings: who changed what, when, from what.

The services call `record_changes` inside the transaction that makes the
change, so the trail and the change commit or roll back together, whichever
door the change came through (dashboard, API, admin, a command).

Why not django-simple-history or django-auditlog: both hang on `post_save`
signals, so they miss the set-based writes that pause or resume many
campaigns in one UPDATE (the admin's bulk actions), and they learn "who"
from a request only. Written by the services, one INSERT per change covers
both, and commands name themselves with `acting_as`.

Who is acting comes from the context: `adserver.middleware.AuditActorMiddleware`
sets the request for the dashboard, the API (DRF authenticates inside the
view, so the user is read when the change is recorded, not when the request
arrives) and the admin; a command wraps its work in `acting_as`; anything
else (beat, the worker) is the system.
"""

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import DecimalField, Model
from django.utils import timezone

from budgets.models import Brand, SettingChange, Via


@dataclass(frozen=True)
class Actor:
    user: User | None
    via: str
    name: str

    @property
    def user_id(self) -> int | None:
        return None if self.user is None else self.user.pk


SYSTEM = Actor(user=None, via=Via.SYSTEM, name="system")

# A callable, so that a request's user is read when a change is recorded.
_current: ContextVar[Callable[[], Actor] | None] = ContextVar("audit_actor", default=None)


def actor_for(user: Any, via: str) -> Actor:
    if isinstance(user, User) and user.is_authenticated:
        return Actor(user=user, via=via, name=user.get_username())
    return Actor(user=None, via=via, name="anonymous" if via != Via.SYSTEM else "system")


def current_actor() -> Actor:
    source = _current.get()
    return SYSTEM if source is None else source()


@contextmanager
def acting_as(source: Actor | Callable[[], Actor]) -> Iterator[None]:
    """Changes made inside are recorded as made by `source` (or what it returns)."""
    getter: Callable[[], Actor] = source if callable(source) else (lambda: source)
    token = _current.set(getter)
    try:
        yield
    finally:
        _current.reset(token)


def command_actor(name: str) -> Actor:
    """A management command, as the trail names it (`command:seed_demo`)."""
    return Actor(user=None, via=Via.COMMAND, name=f"command:{name}")


def stored(instance: Model, name: str) -> object:
    """A field's value as the database keeps it: money at its field's places.

    A cap set to `Decimal("3025")` is kept as 3025.00, and the trail says so.
    """
    value = getattr(instance, name)
    field = instance._meta.get_field(name)
    if isinstance(value, Decimal) and isinstance(field, DecimalField):
        return value.quantize(Decimal(1).scaleb(-field.decimal_places))
    return value


def as_text(value: object) -> str | None:
    """How a value reads in the trail: plain, stable, locale-free."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def record_changes(
    *,
    brand: Brand,
    object_type: str,
    object_id: int | None,
    object_repr: str,
    changes: Mapping[str, tuple[object, object]],
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> list[SettingChange]:
    """One row per field whose value moved; fields that stayed the same are skipped."""
    actor = actor or current_actor()
    now = now or timezone.now()
    rows = [
        change_row(
            brand_id=brand.pk,
            brand_name=brand.name,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr,
            field=field,
            before=before,
            after=after,
            actor=actor,
            now=now,
        )
        for field, (before, after) in changes.items()
        if as_text(before) != as_text(after)
    ]
    return SettingChange.objects.bulk_create(rows) if rows else []


def record_many(rows: list[SettingChange]) -> None:
    """Bulk changes (many campaigns paused at once) in one INSERT."""
    if rows:
        SettingChange.objects.bulk_create(rows)


def change_row(
    *,
    brand_id: int,
    brand_name: str,
    object_type: str,
    object_id: int | None,
    object_repr: str,
    field: str,
    before: object,
    after: object,
    actor: Actor,
    now: dt.datetime,
) -> SettingChange:
    return SettingChange(
        brand_id=brand_id,
        brand_name=brand_name,
        changed_at=now,
        user=actor.user,
        actor=actor.name,
        via=actor.via,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        field=field,
        before=as_text(before),
        after=as_text(after),
    )
