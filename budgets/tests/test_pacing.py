"""budgets.pacing: each figure on hand-computed cases, in three zones.

The elapsed share of a month counts local days alike (each keeps its full
daily cap), and today's elapsed share in real time over its 23, 24 or 25
hours. Shares are rounded to 12 places, hence expected figures such as
949.9999999993 printed as 950.00.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from budgets.pacing import (
    Pacing,
    PacingInput,
    PacingThresholds,
    month_clock,
    pacing_figures,
    project_month,
)

D = Decimal
THRESHOLDS = PacingThresholds()


def _days(first: dt.date, amounts: list[str]) -> dict[dt.date, Decimal]:
    return {first + dt.timedelta(days=n): D(a) for n, a in enumerate(amounts)}


def _pacing(
    now: dt.datetime,
    tz: str,
    *,
    cap: str,
    daily: str | None,
    days: dict[dt.date, Decimal],
    last_hour: str = "0",
) -> Pacing:
    figures = PacingInput(
        monthly_cap=D(cap),
        daily_cap=None if daily is None else D(daily),
        month_to_date=sum(days.values(), D(0)),
        daily_amounts=days,
        last_hour_spend=D(last_hour),
    )
    return pacing_figures(figures, month_clock(now, tz), THRESHOLDS)


# --- UTC, January (31 days), the 10th at noon: 9.5 of 31 days gone ------------------

JAN_10_NOON = dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC)


def test_utc_on_pace_lands_on_the_cap_on_the_last_day() -> None:
    # 100 a day for nine days, 50 this morning: 950 of an expected 3100 x 9.5/31 = 950.
    days = _days(dt.date(2027, 1, 1), ["100"] * 9 + ["50"])

    pacing = _pacing(JAN_10_NOON, "UTC", cap="3100", daily="200", days=days, last_hour="30")

    assert pacing.month_expected_to_date == D("950.00")
    assert pacing.month_pacing_percent == D("100.0")
    assert pacing.status == "on_pace"
    # 950 + 100 a day (days 3..9) x 21.5 days left = 3100, on the 31st.
    assert pacing.month_projected == D("3100.00")
    assert pacing.month_cap_reached_on == dt.date(2027, 1, 31)
    # 3100 - 900 spent before today, over 22 days (today included).
    assert pacing.recommended_daily_budget == D("100.00")
    # 150 left of today's 200 at 30 an hour: five hours from noon.
    assert pacing.day_cap_reached_at == dt.datetime(2027, 1, 10, 17, 0, tzinfo=dt.UTC)


def test_utc_over_pace_reaches_the_cap_on_the_21st() -> None:
    days = _days(dt.date(2027, 1, 1), ["150"] * 9 + ["75"])

    pacing = _pacing(JAN_10_NOON, "UTC", cap="3100", daily="200", days=days, last_hour="10")

    assert pacing.month_pacing_percent == D("150.0")  # 1425 of 950
    assert pacing.status == "over"
    # 1425 + 150 x 21.5 = 4650: a hard cap stops it at 3100.
    assert pacing.month_projected == D("3100.00")
    # 1675 left at 150 a day from day 9.5: day 20.67, the 21st.
    assert pacing.month_cap_reached_on == dt.date(2027, 1, 21)
    assert pacing.recommended_daily_budget == D("79.54")  # (3100 - 1350) / 22, down
    # 125 left at 10 an hour: 12.5 hours, after midnight.
    assert pacing.day_cap_reached_at is None


def test_utc_under_pace() -> None:
    days = _days(dt.date(2027, 1, 1), ["80"] * 9 + ["40"])

    pacing = _pacing(JAN_10_NOON, "UTC", cap="3100", daily="200", days=days)

    assert pacing.month_pacing_percent == D("80.0")  # 760 of 950
    assert pacing.status == "under"
    assert pacing.month_projected == D("2480.00")  # 760 + 80 x 21.5
    assert pacing.month_cap_reached_on is None
    assert pacing.day_cap_reached_at is None  # nothing spent in the last hour


def test_a_cap_already_reached_names_the_day_it_was_reached() -> None:
    days = _days(dt.date(2027, 1, 1), ["400"] * 8 + ["0", "20"])

    pacing = _pacing(JAN_10_NOON, "UTC", cap="3100", daily="400", days=days)

    assert pacing.month_cap_reached_on == dt.date(2027, 1, 8)  # 3200 by the 8th
    assert pacing.month_projected == D("3220.00")  # spend already past the cap
    assert pacing.recommended_daily_budget == D("0.00")


# --- Europe/Paris, March 2026: the 29th is 23 hours long (DST) ----------------------


def test_paris_on_the_dst_day_counts_its_23_hours() -> None:
    # Noon CEST on 29 March is 10:00 UTC: 11 of the day's 23 hours gone.
    now = dt.datetime(2026, 3, 29, 10, 0, tzinfo=dt.UTC)
    days = _days(dt.date(2026, 3, 1), ["40"] * 28 + ["20"])

    pacing = _pacing(now, "Europe/Paris", cap="1500", daily="60", days=days, last_hour="8")

    # Share: (28 + 11/23) / 31 = 0.918653576437; 1500 x that = 1377.98.
    assert pacing.month_expected_to_date == D("1377.98")
    assert pacing.month_pacing_percent == D("82.73")  # 1140 of 1377.98
    assert pacing.status == "under"
    # 1140 + 40 a day x (31 - 28.478260869565) = 1240.87.
    assert pacing.month_projected == D("1240.87")
    assert pacing.month_cap_reached_on is None
    assert pacing.recommended_daily_budget == D("126.66")  # (1500 - 1120) / 3, down
    # 40 left at 8 an hour: 17:00 CEST, before the day's end.
    assert pacing.day_cap_reached_at == dt.datetime(
        2026, 3, 29, 17, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )


def test_paris_on_the_first_of_a_month_uses_todays_rate() -> None:
    # 06:00 CET on 1 March 2026: a quarter of the day; 30 spent so far is 120 a day.
    now = dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC)
    days = {dt.date(2026, 3, 1): D("30")}

    pacing = _pacing(now, "Europe/Paris", cap="3100", daily="200", days=days)

    assert pacing.month_expected_to_date == D("25.00")  # 3100 x 0.25 / 31
    assert pacing.month_pacing_percent == D("120.0")
    assert pacing.status == "on_pace"  # judged from the 3rd
    assert pacing.month_projected == D("3100.00")  # 30 + 120 x 30.75 = 3720, capped
    # 3070 left at 120 a day from day 0.25: day 25.83, the 26th.
    assert pacing.month_cap_reached_on == dt.date(2026, 3, 26)
    assert pacing.recommended_daily_budget == D("100.00")


# --- Asia/Kolkata (UTC+5:30), February 2026 (28 days) -------------------------------


def test_kolkata_on_the_first() -> None:
    now = dt.datetime(2026, 2, 1, 0, 30, tzinfo=dt.UTC)  # 06:00 IST
    days = {dt.date(2026, 2, 1): D("30")}

    pacing = _pacing(now, "Asia/Kolkata", cap="2800", daily="100", days=days, last_hour="20")

    assert pacing.month_expected_to_date == D("25.00")
    assert pacing.month_pacing_percent == D("120.0")
    assert pacing.status == "on_pace"
    assert pacing.month_projected == D("2800.00")  # 30 + 120 x 27.75, capped
    assert pacing.month_cap_reached_on == dt.date(2026, 2, 24)  # day 23.33
    assert pacing.recommended_daily_budget == D("100.00")
    # 70 left at 20 an hour: 3.5 hours, 09:30 IST.
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert pacing.day_cap_reached_at == dt.datetime(2026, 2, 1, 9, 30, tzinfo=ist)


def test_kolkata_on_the_second_is_not_judged_yet() -> None:
    now = dt.datetime(2026, 2, 2, 6, 30, tzinfo=dt.UTC)  # noon IST
    days = _days(dt.date(2026, 2, 1), ["80", "40"])

    pacing = _pacing(now, "Asia/Kolkata", cap="2800", daily="100", days=days)

    assert pacing.month_expected_to_date == D("150.00")  # 2800 x 1.5 / 28
    assert pacing.month_pacing_percent == D("80.0")
    assert pacing.status == "on_pace"  # 80% would be under from the 3rd
    assert pacing.month_projected == D("2240.00")  # 120 + 80 (one complete day) x 26.5
    assert pacing.month_cap_reached_on is None
    assert pacing.recommended_daily_budget == D("100.74")  # 2720 / 27, down


def test_kolkata_on_the_third_is_judged() -> None:
    now = dt.datetime(2026, 2, 3, 6, 30, tzinfo=dt.UTC)
    days = _days(dt.date(2026, 2, 1), ["80", "80", "40"])

    pacing = _pacing(now, "Asia/Kolkata", cap="2800", daily="100", days=days)

    assert pacing.month_pacing_percent == D("80.0")  # 200 of 250
    assert pacing.status == "under"


def test_kolkata_on_the_last_day() -> None:
    now = dt.datetime(2026, 2, 28, 12, 30, tzinfo=dt.UTC)  # 18:00 IST
    days = _days(dt.date(2026, 2, 1), ["100"] * 27 + ["60"])

    pacing = _pacing(now, "Asia/Kolkata", cap="2800", daily="100", days=days, last_hour="10")

    assert pacing.month_expected_to_date == D("2775.00")  # 2800 x 27.75 / 28
    assert pacing.month_pacing_percent == D("99.46")  # 2760 of 2775
    assert pacing.status == "on_pace"
    assert pacing.month_projected == D("2785.00")  # 2760 + 100 x 0.25
    assert pacing.month_cap_reached_on is None
    assert pacing.recommended_daily_budget == D("100.00")  # 100 left, one day
    # 40 left at 10 an hour: 22:00 IST, before midnight.
    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert pacing.day_cap_reached_at == dt.datetime(2026, 2, 28, 22, 0, tzinfo=ist)


def test_the_last_hour_counts_only_since_the_day_began() -> None:
    # 00:15 IST: 5 spent in the day's first quarter hour is 20 an hour.
    now = dt.datetime(2026, 2, 27, 18, 45, tzinfo=dt.UTC)
    days = _days(dt.date(2026, 2, 1), ["100"] * 27 + ["5"])

    pacing = _pacing(now, "Asia/Kolkata", cap="2800", daily="100", days=days, last_hour="5")

    ist = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert pacing.day_cap_reached_at == dt.datetime(2026, 2, 28, 5, 0, tzinfo=ist)


def test_project_month_for_a_simulation() -> None:
    # On the 10th of a 30-day month at midnight, 100 a day for nine days.
    clock = month_clock(dt.datetime(2026, 4, 10, 0, 0, tzinfo=dt.UTC), "UTC")
    days = _days(dt.date(2026, 4, 1), ["100"] * 9)

    projection = project_month(D("5000"), D("900"), days, clock)

    assert projection.projected == D("3000")  # 900 + 100 x 21
    assert projection.cap_reached_on is None


def test_a_clock_read_in_the_brands_own_zone_counts_real_hours() -> None:
    # 01:30 CET on the DST day, given as a Paris time; the clocks jump 02:00 -> 03:00.
    paris_now = dt.datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Paris"))
    utc_now = paris_now.astimezone(dt.UTC)
    days = {dt.date(2026, 3, 29): D("10")}

    in_paris = _pacing(paris_now, "Europe/Paris", cap="3100", daily="30", days=days, last_hour="10")
    in_utc = _pacing(utc_now, "Europe/Paris", cap="3100", daily="30", days=days, last_hour="10")

    assert in_paris == in_utc
    # 20 left at 10 an hour: two real hours on is 04:30 CEST (not 03:30 by the wall clock).
    assert in_paris.day_cap_reached_at == dt.datetime(
        2026, 3, 29, 4, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )


def test_a_daily_cap_out_of_reach_today_has_no_time_however_far_away() -> None:
    # 45 billion left at 1 an hour is further off than any date: no time, no error.
    now = dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC)
    days = _days(dt.date(2027, 1, 1), ["1"] * 10)

    pacing = _pacing(now, "UTC", cap="45323481719", daily="45323481719", days=days, last_hour="1")

    assert pacing.day_cap_reached_at is None
    assert pacing.month_cap_reached_on is None
