"""When a paused campaign serves again: read forward from the same rules as
the reconcile, and checked against the reconcile itself at the instant it
names (and a second before), across DST and overnight windows."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgets.models import Period
from budgets.tests.factories import BrandFactory
from campaigns.models import BudgetHold, Campaign, days_to_mask
from campaigns.next_serving import NextServing, local_instant, next_serving, schedule_allows
from campaigns.schedule import schedule_hold_differences, schedule_holds_reconcile
from campaigns.tests.factories import CampaignFactory, DaypartFactory

pytestmark = pytest.mark.django_db

PARIS = "Europe/Paris"
SECOND = dt.timedelta(seconds=1)


def _campaign(tz: str, windows: list[str], **fields: object) -> Campaign:
    campaign = CampaignFactory.create(
        brand=BrandFactory.create(timezone=tz, daily_budget=Decimal("100")), **fields
    )
    for window in windows:
        days, hours = window.split(" ")
        start, end = hours.split("-")
        DaypartFactory.create(
            campaign=campaign,
            days=days_to_mask(days.split(",")),
            start_time=dt.time.fromisoformat(start),
            end_time=dt.time.fromisoformat(end),
        )
    return campaign


def _tick(campaign: Campaign, at: dt.datetime) -> Campaign:
    with time_machine.travel(at, tick=False):
        schedule_holds_reconcile()
    campaign.refresh_from_db()
    return campaign


def _predict(campaign: Campaign, now: dt.datetime, **kwargs: object) -> NextServing:
    campaign = _tick(campaign, now)
    answer = next_serving(
        campaign,
        list(campaign.dayparts.all()),
        now=now,
        tz_name=campaign.brand.timezone,
        **kwargs,  # type: ignore[arg-type]
    )
    assert answer is not None
    return answer


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("tz", "windows", "now", "expected_utc", "text"),
    [
        # Saturday 03:00 in Paris, after Friday night's window: a week on (with its date).
        (
            PARIS,
            ["fri 22:00-02:00"],
            "2026-03-14 02:00",
            "2026-03-20 21:00",
            "Fri 20 Mar 22:00 CET",
        ),
        # Saturday 11:00 CET, office hours: Monday morning.
        (PARIS, ["mon 09:00-17:00"], "2026-03-14 10:00", "2026-03-16 08:00", "Mon 09:00 CET"),
        # Spring forward in Paris (29 March 2026): 02:30 does not exist, it opens at 03:00 CEST.
        (PARIS, ["sun 02:30-04:00"], "2026-03-28 12:00", "2026-03-29 01:00", "Sun 03:00 CEST"),
        # Fall back in Paris (25 October 2026): the first 02:30, in summer time.
        (PARIS, ["sun 02:30-03:30"], "2026-10-24 12:00", "2026-10-25 00:30", "Sun 02:30 CEST"),
        # An overnight window that starts on Sunday in New York, seen from Monday noon.
        (
            "America/New_York",
            ["sun 23:00-01:00"],
            "2026-03-09 16:00",
            "2026-03-16 03:00",
            "Sun 15 Mar 23:00 EDT",
        ),
    ],
)
def test_outside_its_dayparts_it_serves_at_the_next_window(
    tz: str, windows: list[str], now: str, expected_utc: str, text: str
) -> None:
    campaign = _campaign(tz, windows)

    answer = _predict(campaign, _utc(now))

    assert answer.at == _utc(expected_utc)
    assert answer.text == f"at its next window, {text}"
    # The reconcile agrees: still held a second before, serving at the instant.
    assert _tick(campaign, answer.at - SECOND).schedule_hold == "outside_daypart"
    assert _tick(campaign, answer.at).schedule_hold is None


def test_a_daily_cap_lifts_when_the_brands_new_day_opens_across_dst() -> None:
    # 28 March 2026, 22:30 UTC is 23:30 CET; the new day opens 29 March 00:00 CET.
    campaign = _campaign(PARIS, [], budget_hold=BudgetHold.BRAND_DAILY_BUDGET)

    answer = _predict(campaign, _utc("2026-03-28 22:30"))

    assert answer.at == _utc("2026-03-28 23:00")
    assert answer.text == "from 00:00 CET, when the new day opens"


def test_a_monthly_cap_lifts_when_the_new_month_opens() -> None:
    campaign = _campaign("Asia/Tokyo", [], budget_hold=BudgetHold.BUDGET_MONTHLY_LIMIT)

    answer = _predict(campaign, _utc("2026-03-20 03:00"))

    assert answer.at == _utc("2026-03-31 15:00")
    assert answer.text == "from 1 Apr, when the new month opens"


def test_a_daily_cap_and_a_daypart_wait_for_both() -> None:
    campaign = _campaign(PARIS, ["mon,tue 09:00-17:00"], budget_hold=BudgetHold.BRAND_DAILY_BUDGET)

    answer = _predict(campaign, _utc("2026-03-09 12:00"))  # Monday 13:00 CET, cap spent

    assert answer.at == _utc("2026-03-10 08:00")
    assert answer.text == "at its next window, Tue 09:00 CET"


def test_the_caps_read_on_the_page_outrank_the_stored_hold() -> None:
    # The daily cap is reported, but the month is spent too: the new day is not enough.
    campaign = _campaign(PARIS, [], budget_hold=BudgetHold.BRAND_DAILY_BUDGET)

    answer = _predict(campaign, _utc("2026-03-09 12:00"), caps_reached={Period.DAY, Period.MONTH})

    assert answer.text == "from 1 Apr, when the new month opens"


def test_a_campaign_before_its_flight_serves_when_the_flight_starts() -> None:
    campaign = _campaign(PARIS, [], starts_on=dt.date(2026, 3, 12))

    answer = _predict(campaign, _utc("2026-03-09 12:00"))

    assert answer.at == _utc("2026-03-11 23:00")
    assert answer.text == "from 12 Mar, when its flight starts"


@pytest.mark.parametrize(
    ("fields", "windows", "text"),
    [
        ({"enabled": False}, [], "needs a person: paused by hand"),
        ({"ends_on": dt.date(2026, 3, 1)}, [], "needs a person: its flight ended on 1 Mar 2026"),
        (
            {"ends_on": dt.date(2026, 3, 10)},
            ["fri 09:00-17:00"],
            "needs a person: no daypart opens before its flight ends on 10 Mar 2026",
        ),
    ],
)
def test_what_no_clock_lifts_needs_a_person(
    fields: dict[str, object], windows: list[str], text: str
) -> None:
    campaign = _campaign(PARIS, windows, **fields)

    answer = _predict(campaign, _utc("2026-03-09 12:00"))

    assert answer.needs_person
    assert answer.text.startswith(text)


def test_a_serving_campaign_has_no_next_time() -> None:
    campaign = _tick(_campaign(PARIS, []), _utc("2026-03-09 12:00"))

    assert next_serving(campaign, [], now=_utc("2026-03-09 12:00"), tz_name=PARIS) is None


def test_a_wall_time_in_the_spring_gap_is_where_the_clock_resumes() -> None:
    # Brand-local wall-clock readings, as a daypart's start is combined with its day.
    in_gap = dt.datetime.combine(dt.date(2026, 3, 29), dt.time(2, 30))
    after_gap = dt.datetime.combine(dt.date(2026, 3, 29), dt.time(3, 30))

    assert local_instant(in_gap, PARIS) == _utc("2026-03-29 01:00")
    assert local_instant(after_gap, PARIS) == _utc("2026-03-29 01:30")


# ---------------------------------------------------------------- the slow twin

ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]
_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
_dayparts = st.lists(
    st.tuples(st.integers(min_value=1, max_value=127), _times, _times), min_size=0, max_size=3
)
# Around both 2026 DST changes of Europe and North America, and Lord Howe's half hour.
_instants = st.sampled_from(
    [dt.datetime(2026, 3, 7, tzinfo=dt.UTC), dt.datetime(2026, 10, 3, tzinfo=dt.UTC)]
).flatmap(
    lambda start: st.integers(min_value=0, max_value=4 * 7 * 24 * 60).map(
        lambda minutes: start + dt.timedelta(minutes=minutes, seconds=minutes % 7 * 9)
    )
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tz=st.sampled_from(ZONES),
    windows=_dayparts,
    instant=_instants,
    flight=st.tuples(
        st.none() | st.integers(min_value=0, max_value=28),
        st.none() | st.integers(min_value=0, max_value=28),
    ),
)
def test_the_python_rule_is_the_reconciles_rule(
    tz: str,
    windows: list[tuple[int, dt.time, dt.time]],
    instant: dt.datetime,
    flight: tuple[int | None, int | None],
) -> None:
    """schedule_allows answers as the reconcile's SQL does, at any instant."""
    first = instant.date().replace(day=1)
    starts_on, ends_on = (None if d is None else first + dt.timedelta(days=d) for d in flight)
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        starts_on, ends_on = ends_on, starts_on  # a flight ends on or after its start
    campaign = CampaignFactory.create(
        brand=BrandFactory.create(timezone=tz), starts_on=starts_on, ends_on=ends_on
    )
    parts = [
        DaypartFactory.create(campaign=campaign, days=days, start_time=start, end_time=end)
        for days, start, end in windows
    ]

    # The campaign has no hold: the SQL names it only when the clock says it must not serve.
    differences = schedule_hold_differences(brand_ids=[campaign.brand_id], now=instant)

    assert schedule_allows(campaign, parts, instant=instant, tz_name=tz) == (not differences)
    # And the time it names is where the reconcile lets it serve, not a second earlier.
    campaign.refresh_from_db()
    if differences:
        campaign.schedule_hold = differences[0][2]
        campaign.status = "paused"
    answer = next_serving(campaign, parts, now=instant, tz_name=tz)
    if answer is None or answer.at is None:
        return
    assert not schedule_hold_differences(brand_ids=[campaign.brand_id], now=answer.at)
    if answer.at > instant:
        assert schedule_hold_differences(brand_ids=[campaign.brand_id], now=answer.at - SECOND)
