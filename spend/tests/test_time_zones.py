"""Spend counts for the brand's own local day and month, DST days included."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from budgets.models import Period
from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from spend.models import BrandSpend
from spend.services import spend_record

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")


def campaign_in(tz: str, **brand: object) -> Campaign:
    return CampaignFactory.create(brand=BrandFactory.create(timezone=tz, **brand))


def record_at(campaign: Campaign, local: dt.datetime, amount: str = "1") -> dt.date:
    """Record spend at a brand-local wall-clock time, with the clock there; its local day."""
    with time_machine.travel(local, tick=False):
        return spend_record(
            campaign_id=campaign.pk, amount=Decimal(amount), occurred_at=local
        ).event.local_date


def days(period: str = Period.DAY) -> dict[dt.date, Decimal]:
    return dict(BrandSpend.objects.filter(period=period).values_list("period_start", "amount"))


@pytest.mark.parametrize(
    ("tz", "zone"), [("America/New_York", NEW_YORK), ("Asia/Kolkata", KOLKATA)]
)
def test_a_minute_before_and_after_local_midnight_land_on_two_days(tz: str, zone: ZoneInfo) -> None:
    campaign = campaign_in(tz)

    before = record_at(campaign, dt.datetime(2026, 1, 15, 23, 59, tzinfo=zone), "2")
    after = record_at(campaign, dt.datetime(2026, 1, 16, 0, 1, tzinfo=zone), "3")

    assert (before, after) == (dt.date(2026, 1, 15), dt.date(2026, 1, 16))
    assert days() == {dt.date(2026, 1, 15): Decimal("2"), dt.date(2026, 1, 16): Decimal("3")}


@pytest.mark.parametrize(
    ("tz", "zone"), [("America/New_York", NEW_YORK), ("Asia/Kolkata", KOLKATA)]
)
def test_a_minute_before_and_after_the_local_month_lands_in_two_months(
    tz: str, zone: ZoneInfo
) -> None:
    campaign = campaign_in(tz)

    record_at(campaign, dt.datetime(2026, 3, 31, 23, 59, tzinfo=zone), "2")
    record_at(campaign, dt.datetime(2026, 4, 1, 0, 1, tzinfo=zone), "3")

    assert days(Period.MONTH) == {
        dt.date(2026, 3, 1): Decimal("2"),
        dt.date(2026, 4, 1): Decimal("3"),
    }


def test_kolkata_midnight_is_18_30_utc_not_utc_midnight() -> None:
    campaign = campaign_in("Asia/Kolkata", daily_budget=Decimal("10"))
    # 18:29 and 18:31 UTC on 10 March: 23:59 on the 10th and 00:01 on the 11th in Kolkata.
    with time_machine.travel(dt.datetime(2026, 3, 10, 18, 29, tzinfo=dt.UTC), tick=False):
        spend_record(campaign_id=campaign.pk, amount=Decimal("10"))
    assert Campaign.objects.get().pause_reason == "brand_daily_budget"

    with time_machine.travel(dt.datetime(2026, 3, 10, 18, 31, tzinfo=dt.UTC), tick=False):
        result = spend_record(campaign_id=campaign.pk, amount=Decimal("4"))

    assert result.event.local_date == dt.date(2026, 3, 11)
    assert result.brand_daily_spend == Decimal("4")
    # The new local day's totals are under the cap: the recording releases the hold.
    assert (result.campaign_status, result.pause_reason) == ("active", None)


def test_the_23_hour_spring_forward_day_keeps_the_full_cap() -> None:
    # 8 March 2026 in New York: 02:00 EST jumps to 03:00 EDT.
    campaign = campaign_in("America/New_York", daily_budget=Decimal("100"))
    day = dt.date(2026, 3, 8)

    for hour in (0, 1, 3, 12, 23):  # 02:00-02:59 does not exist that day
        assert (
            record_at(campaign, dt.datetime(2026, 3, 8, hour, 30, tzinfo=NEW_YORK), "19.8") == day
        )

    assert days() == {day: Decimal("99.0")}
    assert Campaign.objects.get().status == "active"  # 99 of a full 100, not of 23/24 of it
    record_at(campaign, dt.datetime(2026, 3, 8, 23, 45, tzinfo=NEW_YORK), "1")
    assert Campaign.objects.get().pause_reason == "brand_daily_budget"


def test_the_25_hour_fall_back_day_counts_the_repeated_hour_on_the_same_day() -> None:
    # 1 November 2026 in New York: 01:00-01:59 happens twice (EDT, then EST).
    campaign = campaign_in("America/New_York", daily_budget=Decimal("100"))
    first = dt.datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK)  # fold=0: EDT, 05:30 UTC
    second = first.replace(fold=1)  # EST, 06:30 UTC
    assert second.astimezone(dt.UTC) - first.astimezone(dt.UTC) == dt.timedelta(hours=1)

    for local in (dt.datetime(2026, 11, 1, 0, 5, tzinfo=NEW_YORK), first, second):
        record_at(campaign, local, "30")
    record_at(campaign, dt.datetime(2026, 11, 1, 23, 55, tzinfo=NEW_YORK), "9.99")

    assert days() == {dt.date(2026, 11, 1): Decimal("99.99")}
    assert Campaign.objects.get().status == "active"
    # Five minutes later it is 2 November: a new day with a new cap.
    assert record_at(campaign, dt.datetime(2026, 11, 2, 0, 0, tzinfo=NEW_YORK)) == dt.date(
        2026, 11, 2
    )
