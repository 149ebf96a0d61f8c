"""Pacing alerts: raised once per brand, local month and kind, delivered like cap alerts."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from budgets.models import Alert, AlertKind, AlertScope, Brand, Period
from budgets.tests.factories import BrandFactory
from spend.alerts import alert_summary, alerts_deliver_now, webhook_body
from spend.pacing_alerts import pacing_alerts_raise
from spend.tasks import pacing_alerts
from spend.tests.factories import BrandSpendFactory

pytestmark = pytest.mark.django_db

# Noon on 10 January 2027 in UTC: 9.5 of January's 31 days gone.
NOW = dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC)


def _brand(
    name: str, per_day: str, *, month: dt.date = dt.date(2027, 1, 1), days: int = 9
) -> Brand:
    brand = BrandFactory.create(
        name=name, daily_budget=Decimal("200"), monthly_budget=Decimal("3100")
    )
    for day in range(days):
        BrandSpendFactory.create(
            brand=brand, period_start=month + dt.timedelta(days=day), amount=Decimal(per_day)
        )
    BrandSpendFactory.create(
        brand=brand, period=Period.MONTH, period_start=month, amount=Decimal(per_day) * days
    )
    return brand


def _raised() -> dict[str, str]:
    return {a.brand.name: a.kind for a in Alert.objects.select_related("brand")}


@time_machine.travel(NOW, tick=False)
def test_brands_under_and_over_pace_get_one_alert_each() -> None:
    _brand("Slow", "80")  # 720 of 950 expected: 76%
    _brand("Steady", "105")  # 945: on pace
    _brand("Fast", "150")  # 1350: 142%

    raised = pacing_alerts_raise()

    assert len(raised) == 2
    assert _raised() == {"Slow": AlertKind.UNDER_PACE, "Fast": AlertKind.OVER_PACE}
    slow = Alert.objects.get(brand__name="Slow")
    assert (slow.scope, slow.period, slow.period_start, slow.threshold) == (
        AlertScope.BRAND,
        Period.MONTH,
        dt.date(2027, 1, 1),
        None,
    )
    assert (slow.cap, slow.spend, slow.projected) == (
        Decimal("3100.00"),
        Decimal("720"),
        Decimal("2440.00"),  # 720 + 80 x 21.5
    )
    assert pacing_alerts_raise() == []  # once per brand, month and kind
    assert Alert.objects.count() == 2


@time_machine.travel(NOW, tick=False)
def test_the_summaries_say_where_the_month_lands() -> None:
    _brand("Slow", "80")
    _brand("Fast", "150")
    pacing_alerts_raise()

    summaries = {a.brand.name: alert_summary(a) for a in Alert.objects.select_related("brand")}

    assert summaries == {
        "Slow": "Slow is under pace for 2027-01: projected 2,440 of 3,100 USD (79%)",
        # 1350 by noon on the 10th (day 9.5), + 150 a day: 9.5 + 1750 / 150 = 21.17, the 22nd.
        "Fast": "Fast is over pace for 2027-01: the monthly cap will be reached on the 22nd",
    }


@time_machine.travel(NOW, tick=False)
def test_a_pacing_alert_is_mailed_and_posted_like_a_cap_alert() -> None:
    _brand("Slow", "80")
    [alert_id] = pacing_alerts_raise()

    result = alerts_deliver_now([alert_id])

    assert result.failed == []
    [message] = mail.outbox
    assert message.subject == (
        "[Pacing alert] Slow is under pace for 2027-01: projected 2,440 of 3,100 USD (79%)"
    )
    assert "Month to date: 720.00 of 3,100.00" in message.body
    alert = Alert.objects.select_related("brand").get()
    assert b'"kind":"under_pace"' in webhook_body(alert, alert_summary(alert))
    assert b'"projected":"2440.00"' in webhook_body(alert, alert_summary(alert))


def test_the_alert_is_sent_to_the_worker_on_commit(
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    with time_machine.travel(NOW, tick=False):
        _brand("Slow", "80")
        with django_capture_on_commit_callbacks() as callbacks:  # type: ignore[attr-defined]
            pacing_alerts_raise()
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Before the 3rd local day nothing is judged: no alert.
        (dt.datetime(2027, 1, 2, 12, 0, tzinfo=dt.UTC), {}),
        # The 3rd: judged.
        (dt.datetime(2027, 1, 3, 12, 0, tzinfo=dt.UTC), {"Slow": AlertKind.UNDER_PACE}),
    ],
)
def test_nothing_is_raised_before_the_third_local_day(
    now: dt.datetime, expected: dict[str, str]
) -> None:
    with time_machine.travel(now, tick=False):
        _brand("Slow", "20", days=now.day - 1)
        pacing_alerts_raise()
    assert _raised() == expected


def test_a_new_month_raises_again() -> None:
    with time_machine.travel(NOW, tick=False):
        brand = _brand("Slow", "80")
        pacing_alerts_raise()
    with time_machine.travel(dt.datetime(2027, 2, 10, 12, 0, tzinfo=dt.UTC), tick=False):
        BrandSpendFactory.create(
            brand=brand, period=Period.MONTH, period_start=dt.date(2027, 2, 1), amount=1
        )
        pacing_alerts_raise()
    assert sorted(Alert.objects.values_list("period_start", flat=True)) == [
        dt.date(2027, 1, 1),
        dt.date(2027, 2, 1),
    ]


@time_machine.travel(NOW, tick=False)
def test_archived_brands_get_none() -> None:
    brand = _brand("Slow", "80")
    Brand.objects.filter(pk=brand.pk).update(archived_at=NOW)
    assert pacing_alerts_raise() == []


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("brands", [2, 20])
def test_the_task_runs_the_same_queries_for_any_number_of_brands(brands: int) -> None:
    for n in range(brands):
        _brand(f"Slow {n}", "80", days=1)

    with CaptureQueriesContext(connection) as queries:
        assert pacing_alerts() == {"raised": brands}

    # * zones  * brands under pace without their alert  * the same, over pace
    # * their month's rollups  * their last hour  * savepoint  * insert
    # * the ids raised  * release
    assert len(queries) == 9, [q["sql"] for q in queries]
    with CaptureQueriesContext(connection) as queries:
        assert pacing_alerts() == {"raised": 0}
    assert len(queries) == 3  # nothing due: the zones and the two statuses


@time_machine.travel(NOW, tick=False)
def test_the_database_refuses_a_second_alert_of_a_kind_in_a_month() -> None:
    brand = _brand("Slow", "80")
    pacing_alerts_raise()
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            brand=brand,
            scope=AlertScope.BRAND,
            kind=AlertKind.UNDER_PACE,
            period=Period.MONTH,
            period_start=dt.date(2027, 1, 1),
            cap=Decimal("3100"),
            spend=Decimal("1"),
            raised_at=NOW,
        )
