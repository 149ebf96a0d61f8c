"""simulate_spend's month projection error: the pacing projection made as local
day 10 began, against the month's actual total, from the run's own rollups."""

import datetime as dt
from decimal import Decimal

from budgets.models import Period
from spend.simulation.report import BrandDailyCaps, BrandPeriod, _with_projection_errors

NOV_1 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DEC_1 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _period(period: str, day: dt.date, spend: str, cap: str, tz: str = "UTC") -> BrandPeriod:
    return BrandPeriod(
        brand_id=1,
        brand="Acme",
        currency="USD",
        timezone=tz,
        period=period,
        period_start=day,
        spend=Decimal(spend),
        cap=Decimal(cap),
        overspend=Decimal("0"),
        events=1,
    )


def _november(first_nine: str, rest: str, tz: str = "UTC") -> list[BrandPeriod]:
    days = [
        _period(Period.DAY, dt.date(2026, 11, n), first_nine if n < 10 else rest, "1000", tz)
        for n in range(1, 31)
    ]
    total = sum((day.spend for day in days), Decimal("0"))
    return [_period(Period.MONTH, dt.date(2026, 11, 1), str(total), "10000", tz), *days]


def _row() -> BrandDailyCaps:
    return BrandDailyCaps(1, "Acme", "UTC", 30, 0, None)


def test_the_error_is_the_day_10_projection_less_the_months_total() -> None:
    # As day 10 begins: 9 x 200 = 1,800 spent, the run rate is days 3-9's mean
    # (200), 21 days are left: 1,800 + 4,200 = 6,000 projected. The days from
    # the 10th spend 300 each: 1,800 + 6,300 = 8,100 actual.
    [row] = _with_projection_errors([_row()], _november("200", "300"), NOV_1, DEC_1)

    assert row.month_projection_error == Decimal("-2100")
    assert row.month_projected == "2026-11"


def test_a_steady_month_is_projected_exactly() -> None:
    [row] = _with_projection_errors([_row()], _november("250", "250"), NOV_1, DEC_1)

    assert row.month_projection_error == Decimal("0")


def test_the_projection_never_passes_the_hard_cap() -> None:
    # 9 x 600 = 5,400, then 600 a day would make 18,000: the cap (10,000) is
    # hard, so 10,000 is projected; the month really spent 5,400 + 21 x 100.
    [row] = _with_projection_errors([_row()], _november("600", "100"), NOV_1, DEC_1)

    assert row.month_projection_error == Decimal("10000") - Decimal("7500")


def test_no_error_without_a_month_covered_from_day_10_to_its_end() -> None:
    periods = _november("200", "300")
    late_start = dt.datetime(2026, 11, 10, 0, 1, tzinfo=dt.UTC)
    early_end = dt.datetime(2026, 11, 30, 23, 0, tzinfo=dt.UTC)

    [late] = _with_projection_errors([_row()], periods, late_start, DEC_1)
    [early] = _with_projection_errors([_row()], periods, NOV_1, early_end)

    assert late.month_projection_error is None
    assert early.month_projection_error is None


def test_day_10_begins_in_the_brands_own_zone() -> None:
    # In Tokyo the 10th begins at 15:00 UTC on the 9th: a run from then on covers it.
    periods = _november("200", "300", tz="Asia/Tokyo")
    from_tokyo_day_10 = dt.datetime(2026, 11, 9, 15, 0, tzinfo=dt.UTC)

    a_minute_late = from_tokyo_day_10 + dt.timedelta(minutes=1)

    [row] = _with_projection_errors([_row()], periods, from_tokyo_day_10, DEC_1)
    [late] = _with_projection_errors([_row()], periods, a_minute_late, DEC_1)

    assert row.month_projection_error == Decimal("-2100")
    assert late.month_projection_error is None
