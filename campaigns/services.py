"""Writes to campaigns, their dayparts and their serving state.

`status` and `pause_reason` are generated columns (see models.py); the
serving-state services change only the facts they own and then record, for
each campaign whose derived state moved, one `CampaignStatusChange`.

The create/update/delete services validate like those of `budgets.services`
(a `ValidationError` naming the field) and send `serving_facts_changed` when
they move a serving fact: a new campaign, its budget, its flight dates, its
dayparts.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Unpack

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from budgets import audit
from budgets.locks import brands_lock
from budgets.models import Brand, Budget
from budgets.services import deletion_guard, validated_save
from budgets.signals import serving_facts_changed
from campaigns.models import WEEKDAYS, Actor, Campaign, Daypart, days_to_mask

HoldColumn = Literal["schedule_hold", "budget_hold", "pacing_hold"]
State = tuple[str, str | None]


@dataclass(frozen=True)
class StateChange:
    campaign_id: int
    old_status: str
    old_reason: str | None
    new_status: str
    new_reason: str | None


# One statement: the campaigns whose derived state differs from the state read
# before the change get a history row, and the rows come back. Portable SQL
# (PostgreSQL and SQLite >= 3.35), with no per-row work in Python, so that a
# tick moving tens of thousands of campaigns stays fast.
_RECORD_CHANGES_SQL = """
WITH before_change (id, old_status, old_reason) AS (VALUES {rows})
INSERT INTO campaigns_campaignstatuschange
    (campaign_id, changed_at, old_status, old_reason, new_status, new_reason, actor, user_id, note)
SELECT c.id, %s, b.old_status, b.old_reason, c.status, c.pause_reason, %s, %s, %s
FROM campaigns_campaign c
JOIN before_change b ON b.id = c.id
WHERE c.status <> b.old_status OR c.pause_reason IS DISTINCT FROM b.old_reason
RETURNING campaign_id, old_status, old_reason, new_status, new_reason
"""


def status_changes_record(
    *,
    before: Mapping[int, State],
    actor: str = Actor.SYSTEM,
    user: AbstractBaseUser | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> list[StateChange]:
    """Write a history row for every campaign whose derived state moved.

    `before` holds each campaign's (status, pause_reason) as read, under lock,
    before the facts were changed. One query, whatever the number of campaigns.
    """
    if not before:
        return []
    params: list[Any] = []
    for pk, (status, reason) in before.items():
        params += [pk, status, reason]
    params += [
        connection.ops.adapt_datetimefield_value(now or timezone.now()),
        actor,
        user.pk if user is not None and actor == Actor.USER else None,
        note[:255],
    ]
    sql = _RECORD_CHANGES_SQL.format(rows=", ".join(["(%s, %s, %s)"] * len(before)))
    # * insert the history rows of the campaigns whose state moved, returning them
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return sorted((StateChange(*row) for row in rows), key=lambda change: change.campaign_id)


def campaigns_set_holds(
    *,
    column: HoldColumn,
    desired: Mapping[int, str | None],
    note: str = "",
    now: dt.datetime | None = None,
) -> list[StateChange]:
    """Set one hold fact on many campaigns; write history for what changed.

    A constant number of queries whatever the number of campaigns: one to
    lock and read the current facts, one UPDATE per distinct hold value (at
    most five), one insert of history for the derived states that moved.
    Rows already in the desired state are not touched, so running it twice
    changes nothing. `now` is when the change happens (a simulation passes its
    clock); it defaults to the real time.
    """
    if not desired:
        return []
    with transaction.atomic():
        # NO KEY UPDATE: holds are not keys, so this lock does not wait for
        # (nor block) rows that merely reference the campaign, such as a
        # daypart or a spend event being inserted.
        current = {
            pk: (hold, status, reason)
            for pk, hold, status, reason in Campaign.objects.select_for_update(no_key=True)
            .filter(id__in=list(desired))
            .order_by("id")
            .values_list("id", column, "status", "pause_reason")
        }
        by_value: dict[str | None, list[int]] = defaultdict(list)
        for pk, (hold, _status, _reason) in current.items():
            if hold != desired[pk]:
                by_value[desired[pk]].append(pk)
        if not by_value:
            return []
        now = now or timezone.now()
        for value, ids in by_value.items():
            Campaign.objects.filter(id__in=ids).update(**{column: value, "updated_at": now})
        before = {pk: (current[pk][1], current[pk][2]) for ids in by_value.values() for pk in ids}
        return status_changes_record(before=before, note=note, now=now)


def campaigns_set_enabled(
    *,
    campaign_ids: Sequence[int],
    enabled: bool,
    user: AbstractBaseUser | None = None,
    note: str = "",
) -> list[StateChange]:
    """Set the user's intent on many campaigns at once; history for each change.

    Only campaigns whose `enabled` differs are written, so repeating a pause
    or a resume changes nothing. An archived campaign, or one of an archived
    brand, is not resumed (campaigns.archive): it stays paused.
    """
    ids = sorted(set(campaign_ids))
    with transaction.atomic():
        rows = _to_set_enabled(ids, enabled=enabled)
        if not rows:
            return []
        now = timezone.now()
        Campaign.objects.filter(id__in=[row[0] for row in rows]).update(
            enabled=enabled, updated_at=now
        )
        _enabled_audited(rows, enabled=enabled, user=user, now=now)
        return status_changes_record(
            before={pk: (status, reason) for pk, status, reason, *_ in rows},
            actor=Actor.USER if user is not None else Actor.SYSTEM,
            user=user,
            note=note or ("Resumed manually" if enabled else "Paused manually"),
            now=now,
        )


def _to_set_enabled(ids: Sequence[int], *, enabled: bool) -> list[tuple[Any, ...]]:
    """The campaigns whose `enabled` is to change, locked: their brands first (budgets.locks).

    An archived campaign, or one of an archived brand, is never resumed.
    """
    brands_lock(
        brand_ids=set(Campaign.objects.filter(id__in=ids).values_list("brand_id", flat=True))
    )
    candidates = Campaign.objects.select_for_update(of=("self",)).filter(id__in=ids)
    if enabled:
        candidates = candidates.filter(archived_at__isnull=True, brand__archived_at__isnull=True)
    return list(
        candidates.exclude(enabled=enabled)
        .order_by("id")
        .values_list("id", "status", "pause_reason", "name", "brand_id", "brand__name")
    )


def _enabled_audited(
    rows: Sequence[tuple[Any, ...]],
    *,
    enabled: bool,
    user: AbstractBaseUser | None,
    now: dt.datetime,
) -> None:
    """The audit rows of campaigns_set_enabled: one per campaign changed."""
    actor = audit.current_actor() if user is None else _audit_actor(user)
    audit.record_many(
        [
            audit.change_row(
                brand_id=brand_id,
                brand_name=brand_name,
                object_type="campaign",
                object_id=pk,
                object_repr=name,
                field="enabled",
                before=not enabled,
                after=enabled,
                actor=actor,
                now=now,
            )
            for pk, _status, _reason, name, brand_id, brand_name in rows
        ]
    )


def _audit_actor(user: AbstractBaseUser) -> audit.Actor:
    """The person named by the caller, through the door the context says."""
    return audit.actor_for(user, audit.current_actor().via)


def campaign_pause(
    *, campaign_id: int, user: AbstractBaseUser | None = None, note: str = ""
) -> Campaign:
    """A manual pause: it holds until a person resumes the campaign.

    Raises Campaign.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        campaigns_set_enabled(campaign_ids=[campaign_id], enabled=False, user=user, note=note)
        return Campaign.objects.get(pk=campaign_id)


def campaign_resume(
    *, campaign_id: int, user: AbstractBaseUser | None = None, note: str = ""
) -> Campaign:
    """Lift the manual pause only; schedule and budget holds stay as they are.

    Refused (a ValidationError naming `enabled`) while the campaign or its
    brand is archived. Raises Campaign.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        refuse_if_archived(campaign_id)
        campaigns_set_enabled(campaign_ids=[campaign_id], enabled=True, user=user, note=note)
        return Campaign.objects.get(pk=campaign_id)


def refuse_if_archived(campaign_id: int) -> None:
    """A ValidationError naming `enabled` when the campaign or its brand is archived."""
    campaign, brand, campaign_archived, brand_archived = Campaign.objects.values_list(
        "name", "brand__name", "archived_at", "brand__archived_at"
    ).get(pk=campaign_id)
    if campaign_archived is not None:
        raise ValidationError({"enabled": [f"{campaign} is archived: unarchive it first."]})
    if brand_archived is not None:
        raise ValidationError({"enabled": [f"Its brand {brand} is archived: unarchive it first."]})


# PostgreSQL only: the set-based form of campaigns_set_holds. The changes come
# from a statement rather than from Python, so nothing is shipped per row.
# `locked` takes the row locks in id order before `updated` can reach a row
# (the UPDATE reads its rows from `locked`) and keeps each row's state as read
# under the lock, which is the "before" of its history row.
_APPLY_HOLD_DIFFERENCES_SQL = """
WITH changes AS ({differences}),
locked AS (
    SELECT c.id, c.status, c.pause_reason, ch.hold
    FROM campaigns_campaign c
    JOIN changes ch ON ch.id = c.id
    ORDER BY c.id
    FOR NO KEY UPDATE OF c
),
updated AS (
    UPDATE campaigns_campaign c
    SET {column} = l.hold, updated_at = %s
    FROM locked l
    WHERE c.id = l.id AND c.{column} IS DISTINCT FROM l.hold
    RETURNING c.id, c.status, c.pause_reason
)
INSERT INTO campaigns_campaignstatuschange
    (campaign_id, changed_at, old_status, old_reason, new_status, new_reason, actor, user_id, note)
SELECT u.id, %s, l.status, l.pause_reason, u.status, u.pause_reason, %s, NULL, %s
FROM updated u
JOIN locked l ON l.id = u.id
WHERE u.status <> l.status OR u.pause_reason IS DISTINCT FROM l.pause_reason
RETURNING campaign_id, old_status, old_reason, new_status, new_reason
"""


def campaigns_apply_hold_differences(
    *,
    column: HoldColumn,
    differences: tuple[str, Sequence[Any]],
    note: str = "",
    now: dt.datetime | None = None,
) -> list[StateChange]:
    """What campaigns_set_holds does, in one statement, for changes selected by SQL.

    `differences` is a statement and its parameters selecting (campaign id,
    brand id, desired hold) rows; it is evaluated inside this statement, after
    whatever locks the caller took (the reconcile's brand locks), so it reads
    the facts as they are then. PostgreSQL only (data-modifying WITH).
    """
    if column not in ("schedule_hold", "budget_hold", "pacing_hold"):
        raise ValueError(f"not a hold column: {column}")
    if connection.vendor != "postgresql":
        raise NotImplementedError("campaigns_apply_hold_differences needs PostgreSQL")
    differences_sql, differences_params = differences
    now = now or timezone.now()
    sql = _APPLY_HOLD_DIFFERENCES_SQL.format(differences=differences_sql, column=column)
    params = [*differences_params, now, now, Actor.SYSTEM.value, note[:255]]
    # * select the changes, lock their rows, update them, insert their history
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return sorted((StateChange(*row) for row in rows), key=lambda change: change.campaign_id)


# --- campaigns -------------------------------------------------------------------

CAMPAIGN_CONSTRAINT_FIELDS = Campaign.constraint_fields()
CAMPAIGN_SERVING_FIELDS = frozenset({"budget", "starts_on", "ends_on"})


class CampaignChanges(TypedDict, total=False):
    brand: Brand
    budget: Budget | None
    name: str
    enabled: bool
    starts_on: dt.date | None
    ends_on: dt.date | None


def _check_campaign(campaign: Campaign) -> None:
    """The rules that span rows or fields, each reported on the field to fix."""
    errors: dict[str, list[str]] = {}
    if campaign.budget is not None and campaign.budget.brand_id != campaign.brand_id:
        errors["budget"] = ["This budget belongs to another brand."]
    if (
        campaign.starts_on is not None
        and campaign.ends_on is not None
        and campaign.ends_on < campaign.starts_on
    ):
        errors["ends_on"] = ["The flight cannot end before it starts."]
    taken = Campaign.objects.filter(brand_id=campaign.brand_id, name=campaign.name)
    if campaign.name and taken.exclude(pk=campaign.pk).exists():
        errors["name"] = ["This brand already has a campaign with this name."]
    if errors:
        raise ValidationError(errors)


def _campaign_with_relations(campaign_id: int) -> Campaign:
    return Campaign.objects.select_related("brand", "budget").get(pk=campaign_id)


def campaign_create(
    *,
    brand: Brand,
    name: str,
    budget: Budget | None = None,
    enabled: bool = True,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Campaign:
    """A new campaign; its holds are set at once by the brand's reconcile."""
    campaign = Campaign(
        brand=brand,
        budget=budget,
        name=name,
        enabled=enabled,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    with transaction.atomic():
        brands_lock(brand_ids={brand.pk})
        _check_campaign(campaign)
        validated_save(campaign, constraint_fields=CAMPAIGN_CONSTRAINT_FIELDS)
        _record_campaign(
            campaign, {f: (None, getattr(campaign, f)) for f in CAMPAIGN_AUDITED_FIELDS}
        )
        serving_facts_changed.send(sender=Campaign, brand_ids=frozenset({brand.pk}))
        return _campaign_with_relations(campaign.pk)


# `enabled` is recorded by campaigns_set_enabled, which every pause and resume goes through.
CAMPAIGN_AUDITED_FIELDS = ("name", "budget", "starts_on", "ends_on", "enabled")


def _record_campaign(campaign: Campaign, changes: Mapping[str, tuple[object, object]]) -> None:
    audit.record_changes(
        brand=campaign.brand,
        object_type="campaign",
        object_id=campaign.pk,
        object_repr=campaign.name,
        changes=changes,
    )


def campaign_update(
    *, campaign_id: int, user: AbstractBaseUser | None = None, **changes: Unpack[CampaignChanges]
) -> Campaign:
    """Change some of a campaign's fields. Its brand never changes.

    `enabled` goes through `campaigns_set_enabled`, so turning it off is a
    manual pause recorded with `user`. Raises Campaign.DoesNotExist for an
    unknown id.
    """
    with transaction.atomic():
        # The brand first, as every writer of serving facts does (budgets.locks).
        _lock_brand_of_campaign(campaign_id)
        campaign = (
            Campaign.objects.select_for_update(of=("self",))
            .select_related("brand", "budget")
            .get(pk=campaign_id)
        )
        if "brand" in changes and changes["brand"] != campaign.brand:
            raise ValidationError({"brand": ["A campaign cannot move to another brand."]})
        fields = [f for f in ("budget", "name", "starts_on", "ends_on") if f in changes]
        changed = [f for f in fields if getattr(campaign, f) != changes[f]]
        if changed:
            before = {field: getattr(campaign, field) for field in changed}
            for field in changed:
                setattr(campaign, field, changes[field])
            _check_campaign(campaign)
            validated_save(
                campaign,
                update_fields=[*changed, "updated_at"],
                constraint_fields=CAMPAIGN_CONSTRAINT_FIELDS,
            )
            _record_campaign(campaign, {f: (before[f], getattr(campaign, f)) for f in changed})
        if changes.get("enabled") and not campaign.enabled:
            refuse_if_archived(campaign.pk)
        if "enabled" in changes:
            campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=changes["enabled"], user=user)
        if CAMPAIGN_SERVING_FIELDS.intersection(changed):
            serving_facts_changed.send(sender=Campaign, brand_ids=frozenset({campaign.brand_id}))
        return _campaign_with_relations(campaign.pk)


def campaign_delete(*, campaign_id: int) -> None:
    """Delete a campaign with its dayparts and history.

    Refused (DeletionRefused) while it has spend. Raises Campaign.DoesNotExist
    for an unknown id.
    """
    with deletion_guard(f"Campaign {campaign_id}", archivable=True):
        _lock_brand_of_campaign(campaign_id)
        campaign = (
            Campaign.objects.select_for_update(of=("self",))
            .select_related("brand", "budget")
            .get(pk=campaign_id)
        )
        _record_campaign(
            campaign, {f: (getattr(campaign, f), None) for f in CAMPAIGN_AUDITED_FIELDS}
        )
        campaign.delete()


def _lock_brand_of_campaign(campaign_id: int) -> None:
    """Lock the campaign's brand (it never changes), raising DoesNotExist if unknown."""
    brands_lock(brand_ids={Campaign.objects.values_list("brand_id", flat=True).get(pk=campaign_id)})


# --- dayparts ----------------------------------------------------------------------


class DaypartChanges(TypedDict, total=False):
    campaign: Campaign
    days: Iterable[str]
    start_time: dt.time
    end_time: dt.time


def _days_mask(days: Iterable[str]) -> int:
    names = list(days)
    unknown = sorted({str(name) for name in names} - set(WEEKDAYS))
    if unknown:
        raise ValidationError(
            {"days": [f"Unknown weekday {', '.join(unknown)}; use {', '.join(WEEKDAYS)}."]}
        )
    if not names:
        raise ValidationError({"days": ["Choose at least one weekday."]})
    return days_to_mask(names)


def _check_times(start_time: dt.time, end_time: dt.time) -> None:
    # Wall-clock times in the brand's zone: an offset would mean another zone.
    for field, value in (("start_time", start_time), ("end_time", end_time)):
        if value.tzinfo is not None:
            raise ValidationError({field: ["Use the brand's local time, without an offset."]})


def _send_for_campaign(campaign_id: int) -> None:
    brand_id = Campaign.objects.filter(pk=campaign_id).values_list("brand_id", flat=True).get()
    serving_facts_changed.send(sender=Daypart, brand_ids=frozenset({brand_id}))


def _campaign_of_daypart(daypart_id: int) -> int:
    return Daypart.objects.values_list("campaign_id", flat=True).get(pk=daypart_id)


def daypart_create(
    *, campaign: Campaign, days: Iterable[str], start_time: dt.time, end_time: dt.time
) -> Daypart:
    """A weekly window; `end_time <= start_time` runs overnight into the next day."""
    _check_times(start_time, end_time)
    daypart = Daypart(
        campaign=campaign, days=_days_mask(days), start_time=start_time, end_time=end_time
    )
    with transaction.atomic():
        brands_lock(brand_ids={campaign.brand_id})
        validated_save(daypart, constraint_fields=Daypart.constraint_fields())
        _record_daypart(daypart, None, str(daypart))
        serving_facts_changed.send(sender=Daypart, brand_ids=frozenset({campaign.brand_id}))
    return daypart


def _record_daypart(daypart: Daypart, before: str | None, after: str | None) -> None:
    """A window is one setting: "Mon, Tue 09:00-17:00" before and after."""
    campaign = Campaign.objects.select_related("brand").get(pk=daypart.campaign_id)
    audit.record_changes(
        brand=campaign.brand,
        object_type="daypart",
        object_id=daypart.pk,
        object_repr=f"{campaign.name}, window {daypart.pk}",
        changes={"window": (before, after)},
    )


def daypart_update(*, daypart_id: int, **changes: Unpack[DaypartChanges]) -> Daypart:
    """Change a daypart's days or times. It never moves to another campaign.

    Raises Daypart.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        _lock_brand_of_campaign(_campaign_of_daypart(daypart_id))
        daypart = Daypart.objects.select_for_update().get(pk=daypart_id)
        if "campaign" in changes and changes["campaign"].pk != daypart.campaign_id:
            raise ValidationError({"campaign": ["A daypart cannot move to another campaign."]})
        new_values: dict[str, object] = {}
        if "days" in changes:
            new_values["days"] = _days_mask(changes["days"])
        for field in ("start_time", "end_time"):
            if field in changes:
                new_values[field] = changes[field]
        _check_times(
            changes.get("start_time", daypart.start_time), changes.get("end_time", daypart.end_time)
        )
        changed = [f for f, value in new_values.items() if getattr(daypart, f) != value]
        if not changed:
            return daypart
        before = str(daypart)
        for field in changed:
            setattr(daypart, field, new_values[field])
        validated_save(
            daypart, update_fields=changed, constraint_fields=Daypart.constraint_fields()
        )
        _record_daypart(daypart, before, str(daypart))
        _send_for_campaign(daypart.campaign_id)
    return daypart


def daypart_delete(*, daypart_id: int) -> None:
    """Raises Daypart.DoesNotExist for an unknown id."""
    with transaction.atomic():
        _lock_brand_of_campaign(_campaign_of_daypart(daypart_id))
        daypart = Daypart.objects.select_for_update().get(pk=daypart_id)
        _record_daypart(daypart, str(daypart), None)
        daypart.delete()
        _send_for_campaign(daypart.campaign_id)
