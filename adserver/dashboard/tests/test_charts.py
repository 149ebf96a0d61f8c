"""Chart geometry and the weekly serving grid."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from adserver.dashboard.charts import (
    LEFT,
    PLOT_WIDTH,
    Day,
    Projection,
    daily_bars,
    intraday,
    level,
    month_cumulative,
    week_grid,
    week_windows,
)
from campaigns.models import Daypart, days_to_mask


def _part(days: list[str], start: str, end: str) -> Daypart:
    return Daypart(
        days=days_to_mask(days),
        start_time=dt.time.fromisoformat(start),
        end_time=dt.time.fromisoformat(end),
    )


def test_no_dayparts_serves_all_week() -> None:
    assert week_windows([]) == [[(0, 1440)]] * 7


def test_overnight_window_spills_into_the_next_day() -> None:
    windows = week_windows([_part(["fri"], "22:00", "02:00")])

    assert windows[4] == [(22 * 60, 1440)]  # Friday
    assert windows[5] == [(0, 2 * 60)]  # Saturday morning
    assert [i for i, day in enumerate(windows) if day] == [4, 5]


def test_sundays_overnight_window_runs_into_monday() -> None:
    windows = week_windows([_part(["sun"], "23:30", "01:15")])

    assert windows[6] == [(23 * 60 + 30, 1440)]
    assert windows[0] == [(0, 75)]


def test_equal_start_and_end_is_a_full_day_from_the_start() -> None:
    windows = week_windows([_part(["mon"], "06:00", "06:00")])

    assert windows[0] == [(360, 1440)]
    assert windows[1] == [(0, 360)]


def test_overlapping_windows_merge() -> None:
    windows = week_windows([_part(["tue"], "09:00", "12:00"), _part(["tue"], "11:00", "14:00")])

    assert windows[1] == [(540, 840)]


def test_grid_rows_read_as_text_and_mark_now() -> None:
    grid = week_grid(
        [_part(["fri", "sat"], "22:00", "02:00")],
        now_local=dt.datetime(2026, 3, 14, 1, 0, tzinfo=ZoneInfo("Europe/Oslo")),  # a Saturday
    )

    assert grid.rows[5].text == "00:00-02:00, 22:00-24:00"
    assert grid.rows[0].text == "not serving"
    assert grid.now_y == grid.rows[5].y
    assert grid.now_x is not None


def test_levels_turn_at_80_and_100_percent() -> None:
    cap = Decimal("100")
    assert [level(Decimal(v), cap) for v in ("79.99", "80", "99.99", "100", "150")] == [
        "ok",
        "warn",
        "warn",
        "over",
        "over",
    ]
    assert level(Decimal("1000"), None) == "ok"


def test_bars_are_scaled_to_fit_the_cap_and_the_highest_day() -> None:
    first = dt.date(2026, 3, 1)
    chart = daily_bars(
        {first: Decimal("50"), first + dt.timedelta(days=2): Decimal("200")},
        first=first,
        last=first + dt.timedelta(days=2),
        cap=Decimal("100"),
    )

    low, empty, high = chart.bars
    assert (low.amount, empty.amount, high.amount) == (Decimal("50"), Decimal("0"), Decimal("200"))
    assert empty.height == 0
    assert high.height > low.height * 3.9
    assert chart.cap_y is not None
    assert high.y < chart.cap_y < low.y  # the 200 bar passes the cap line
    assert chart.ticks[-1].value >= Decimal("200")


def test_month_line_accumulates_up_to_today_with_a_pace_line_to_the_cap() -> None:
    chart = month_cumulative(
        {dt.date(2026, 2, 1): Decimal("10"), dt.date(2026, 2, 3): Decimal("5")},
        today=dt.date(2026, 2, 3),
        cap=Decimal("280"),
    )

    assert [p.amount for p in chart.points] == [Decimal("10"), Decimal("10"), Decimal("15")]
    assert chart.total == Decimal("15")
    assert chart.pace_line is not None
    assert chart.pace_line[3] == chart.cap_y
    assert chart.polyline.count(",") == 4  # the origin and three days


def _xy(points: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in points.split())]


def test_todays_hours_run_up_to_now_with_the_allowance_and_the_projection() -> None:
    paris = ZoneInfo("Europe/Paris")
    # 29 March 2026 is 23 hours long in Paris; now is 12:00 CEST, 11 hours in.
    day = Day(
        start=dt.datetime(2026, 3, 29, 0, 0, tzinfo=paris),
        end=dt.datetime(2026, 3, 30, 0, 0, tzinfo=paris),
        now=dt.datetime(2026, 3, 29, 12, 0, tzinfo=paris),
        tz=paris,
    )
    hours = [
        (dt.datetime(2026, 3, 29, 9, 0, tzinfo=paris), Decimal("20")),
        (dt.datetime(2026, 3, 29, 11, 0, tzinfo=paris), Decimal("30")),
    ]

    chart = intraday(hours, day=day, cap=Decimal("100"), rate_per_hour=Decimal("10"))

    assert [(hour, total) for _, _, hour, total in chart.points] == [
        ("09:00", Decimal("20")),
        ("11:00", Decimal("50")),
    ]
    # x is real time over the day's 23 hours: the end of 10:00 CEST is 9 hours in.
    assert chart.points[0][0] == round(LEFT + PLOT_WIDTH * 9 / 23, 1)
    assert chart.now_x == round(LEFT + PLOT_WIDTH * 11 / 23, 1)
    # The allowance runs from nothing at midnight to the cap at the day's end.
    assert _xy(chart.allowance_line)[1] == (LEFT + PLOT_WIDTH, chart.cap_y)
    assert not chart.over_serving
    # Labels at local wall-clock hours: 06:00 (CEST, after the change at 02:00)
    # is 5 hours in, 12:00 is 11.
    assert [(label.text, label.x) for label in chart.labels][1:3] == [
        ("06:00", round(LEFT + PLOT_WIDTH * 5 / 23, 1)),
        ("12:00", round(LEFT + PLOT_WIDTH * 11 / 23, 1)),
    ]
    # 50 left at 10 an hour: the projection meets the cap at 17:00, 16 hours in.
    start, end = _xy(chart.projection)
    assert start[0] == chart.now_x
    assert end == (round(LEFT + PLOT_WIDTH * 16 / 23, 1), chart.cap_y)


def _hour(hour: int) -> dt.datetime:
    return dt.datetime(2027, 1, 13, hour, 0, tzinfo=dt.UTC)


def test_a_standard_brands_even_line_runs_over_its_windows_and_the_projection_stops_with_them() -> (
    None
):
    day = Day(
        start=_hour(0),
        end=_hour(0) + dt.timedelta(days=1),
        now=_hour(12),
        tz=dt.UTC,
        serving_ends_at=_hour(17),
    )
    hours = [(_hour(9), Decimal("20")), (_hour(11), Decimal("30"))]
    windows = [(_hour(9), _hour(11)), (_hour(15), _hour(17))]  # four hours of serving

    chart = intraday(
        hours, day=day, cap=Decimal("100"), rate_per_hour=Decimal("5"), serving=windows
    )

    def x(hour: int) -> float:
        return round(LEFT + PLOT_WIDTH * hour / 24, 1)

    zero = _xy(chart.polyline)[0][1]
    points = _xy(chart.allowance_line)
    half = points[2][1]
    # Flat at 0 until 09:00, half the cap by 11:00, flat through the gap, the cap at 17:00.
    assert points == [
        (x(0), zero),
        (x(9), zero),
        (x(11), half),
        (x(15), half),
        (x(17), chart.cap_y),
        (x(24), chart.cap_y),
    ]
    assert chart.cap_y is not None
    assert half == round((zero + chart.cap_y) / 2, 1)
    assert chart.over_serving
    # 50 spent, 5 an hour: 75 when serving ends at 17:00, short of the cap; the
    # projection stops there instead of reaching the cap at 22:00.
    start, end = _xy(chart.projection)
    assert start == (x(12), half)
    assert end[0] == x(17)
    assert chart.cap_y < end[1] < half


def test_no_projection_and_no_even_line_once_serving_has_ended() -> None:
    day = Day(
        start=_hour(0),
        end=_hour(0) + dt.timedelta(days=1),
        now=_hour(12),
        tz=dt.UTC,
        serving_ends_at=_hour(0),  # no window today
    )

    chart = intraday([], day=day, cap=Decimal("100"), rate_per_hour=Decimal("5"), serving=[])

    assert chart.projection == ""
    assert chart.allowance_line == ""


def test_the_month_chart_projects_through_the_cap_on_the_day_it_is_reached() -> None:
    series = {dt.date(2026, 1, d): Decimal("150") for d in range(1, 11)}

    chart = month_cumulative(
        series,
        today=dt.date(2026, 1, 10),
        cap=Decimal("3100"),
        projection=Projection(Decimal("3100"), dt.date(2026, 1, 21)),
    )

    step = PLOT_WIDTH / 31
    assert [x for x, _ in _xy(chart.projection)] == [
        round(LEFT + 10 * step, 1),
        round(LEFT + 21 * step, 1),
        round(LEFT + 31 * step, 1),
    ]
    assert _xy(chart.projection)[1][1] == chart.cap_y
