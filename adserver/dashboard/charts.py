"""Chart geometry for server-side SVG: no outside service, no chart library.

Each function turns figures into plain shapes (rectangles, lines, points)
in a fixed view box; the templates in `includes/_*_chart.html` only print
them. Money stays Decimal until it becomes a coordinate.
"""

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from budgets.pacing import Window
from campaigns.models import WEEKDAYS, Daypart

WIDTH = 720
HEIGHT = 220
LEFT = 76
RIGHT = 28
TOP = 12
BOTTOM = 28
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
WARN_SHARE = Decimal("0.8")


@dataclass(frozen=True)
class Bar:
    day: dt.date
    amount: Decimal
    x: float
    y: float
    width: float
    height: float
    level: str  # "ok", "warn" or "over", against the cap


@dataclass(frozen=True)
class Tick:
    value: Decimal
    y: float


@dataclass(frozen=True)
class Label:
    text: str
    x: float


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    cap: Decimal | None
    cap_y: float | None
    ticks: list[Tick]
    labels: list[Label]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: float = TOP + PLOT_HEIGHT


@dataclass(frozen=True)
class Point:
    day: dt.date
    amount: Decimal
    x: float
    y: float


@dataclass(frozen=True)
class LineChart:
    points: list[Point]
    polyline: str
    cap: Decimal | None
    cap_y: float | None
    pace_line: tuple[float, float, float, float] | None
    ticks: list[Tick]
    labels: list[Label]
    projection: str = ""  # points of the dashed projection from today on
    projected: Decimal | None = None
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: float = TOP + PLOT_HEIGHT

    @property
    def total(self) -> Decimal:
        return self.points[-1].amount if self.points else Decimal("0")


def level(amount: Decimal, cap: Decimal | None) -> str:
    """The colour of a figure against its cap: at 80% it warns, at 100% it is over."""
    if cap is None or cap <= 0:
        return "ok"
    if amount >= cap:
        return "over"
    if amount >= cap * WARN_SHARE:
        return "warn"
    return "ok"


def _scale_top(values: Iterable[Decimal]) -> Decimal:
    """A round number a little above the largest value, so the axis reads well."""
    peak = max([Decimal("0"), *values])
    if peak <= 0:
        return Decimal("1")
    peak *= Decimal("1.1")
    magnitude = Decimal(10) ** (peak.adjusted())
    for step in (1, 2, 2.5, 5, 10):
        top = magnitude * Decimal(str(step))
        if top >= peak:
            return top
    return magnitude * 10  # pragma: no cover - the loop always returns


def _y(amount: Decimal, top: Decimal) -> float:
    share = max(Decimal("0"), min(amount, top)) / top
    return round(TOP + PLOT_HEIGHT * (1 - float(share)), 1)


def _ticks(top: Decimal) -> list[Tick]:
    return [Tick(value=top * i / 4, y=_y(top * i / 4, top)) for i in range(5)]


def daily_bars(
    series: Mapping[dt.date, Decimal], *, first: dt.date, last: dt.date, cap: Decimal | None
) -> BarChart:
    """One bar per brand-local day from `first` to `last`, with the daily cap as a line."""
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    amounts = [series.get(day, Decimal("0")) for day in days]
    top = _scale_top([*amounts, *([cap] if cap is not None else [])])
    step = PLOT_WIDTH / len(days)
    gap = min(2.0, step / 5)
    bars = []
    for i, (day, amount) in enumerate(zip(days, amounts, strict=True)):
        y = _y(amount, top)
        bars.append(
            Bar(
                day=day,
                amount=amount,
                x=round(LEFT + i * step + gap, 1),
                y=y,
                width=round(step - 2 * gap, 1),
                height=round(TOP + PLOT_HEIGHT - y, 1),
                level=level(amount, cap),
            )
        )
    every = max(1, len(days) // 6)
    labels = [
        Label(text=f"{day:%b} {day.day}", x=round(LEFT + (i + 0.5) * step, 1))
        for i, day in enumerate(days)
        if (len(days) - 1 - i) % every == 0
    ]
    return BarChart(
        bars=bars,
        cap=cap,
        cap_y=_y(cap, top) if cap is not None else None,
        ticks=_ticks(top),
        labels=labels,
    )


@dataclass(frozen=True)
class Projection:
    """Where the month lands (budgets.pacing) and the day the cap is reached."""

    projected: Decimal
    cap_reached_on: dt.date | None


@dataclass(frozen=True)
class _MonthScale:
    """Where a day's end and an amount fall on a month chart."""

    month_days: int
    top: Decimal

    def x(self, day_end: int) -> float:
        return round(LEFT + day_end * (PLOT_WIDTH / self.month_days), 1)

    def at(self, day_end: int, amount: Decimal) -> str:
        return f"{self.x(day_end)},{_y(amount, self.top)}"


def _projection_points(
    projection: Projection | None,
    scale: _MonthScale,
    *,
    today: dt.date,
    running: Decimal,
    cap: Decimal | None,
) -> str:
    """From the end of today to the month's end; through the cap on the day it is reached."""
    if projection is None:
        return ""
    start = scale.at(today.day, running)
    end = scale.at(scale.month_days, projection.projected)
    reached = projection.cap_reached_on
    if cap is None or reached is None or reached <= today:
        return f"{start} {end}"
    return f"{start} {scale.at(reached.day, cap)} {end}"


def _running_by_day(
    series: Mapping[dt.date, Decimal], *, first: dt.date, today: dt.date
) -> list[tuple[dt.date, Decimal]]:
    """Each day from `first` to `today` with the running total by its end."""
    running = Decimal("0")
    totals = []
    for i in range((today - first).days + 1):
        day = first + dt.timedelta(days=i)
        running += series.get(day, Decimal("0"))
        totals.append((day, running))
    return totals


def month_cumulative(
    series: Mapping[dt.date, Decimal],
    *,
    today: dt.date,
    cap: Decimal | None,
    projection: Projection | None = None,
) -> LineChart:
    """This month's running total, day by day up to today, against the monthly cap;
    a dashed pace line from nothing on the 1st to the whole cap at the month's end
    (a total above it spends ahead of plan) and, with a projection, a dashed line
    from today to where the month lands (through the cap on the day it is reached)."""
    first = today.replace(day=1)
    totals = _running_by_day(series, first=first, today=today)
    running = totals[-1][1]
    extra = [] if projection is None else [projection.projected]
    top = _scale_top([running, *extra, *([cap] if cap is not None else [])])
    scale = _MonthScale(calendar.monthrange(today.year, today.month)[1], top)
    points = [
        Point(day=day, amount=amount, x=scale.x(i + 1), y=_y(amount, top))
        for i, (day, amount) in enumerate(totals)
    ]
    polyline = " ".join([scale.at(0, Decimal("0")), *(f"{p.x},{p.y}" for p in points)])
    cap_y = _y(cap, top) if cap is not None else None
    pace = (
        None
        if cap_y is None
        else (scale.x(0), _y(Decimal("0"), top), scale.x(scale.month_days), cap_y)
    )
    days = (1, 8, 15, 22, scale.month_days)
    return LineChart(
        points=points,
        polyline=polyline,
        cap=cap,
        cap_y=cap_y,
        pace_line=pace,
        ticks=_ticks(top),
        labels=[Label(text=f"{first:%b} {day}", x=scale.x(day)) for day in days],
        projection=_projection_points(projection, scale, today=today, running=running, cap=cap),
        projected=None if projection is None else projection.projected,
    )


@dataclass(frozen=True)
class IntradayChart:
    """Today's cumulative spend by local hour against the daily cap."""

    polyline: str
    points: list[tuple[float, float, str, Decimal]]  # x, y, local hour, total by its end
    total: Decimal
    cap: Decimal | None
    cap_y: float | None
    allowance_line: str  # polyline points; empty without a daily cap
    over_serving: bool  # the even line runs over the serving windows, not the day
    projection: str
    now_x: float
    ticks: list[Tick]
    labels: list[Label]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: float = TOP + PLOT_HEIGHT


@dataclass(frozen=True)
class Day:
    """A brand-local day: [start, end) and now inside it, kept in UTC (Python
    subtracts two times of one zone on the wall clock, an hour off across a
    DST change), and the zone for the labels."""

    start: dt.datetime
    end: dt.datetime
    now: dt.datetime
    tz: dt.tzinfo
    serving_ends_at: dt.datetime | None = None  # when the last serving window closes

    def __post_init__(self) -> None:
        for name in ("start", "end", "now"):
            object.__setattr__(self, name, getattr(self, name).astimezone(dt.UTC))

    @property
    def serving_end(self) -> dt.datetime:
        """The end of today's serving time: the day's end unless told earlier."""
        return min(self.end, (self.serving_ends_at or self.end).astimezone(dt.UTC))

    def x(self, instant: dt.datetime) -> float:
        at = min(max(instant.astimezone(dt.UTC), self.start), self.end)
        return round(LEFT + PLOT_WIDTH * ((at - self.start) / (self.end - self.start)), 1)

    def wall_clock(self, hours: int) -> dt.datetime:
        """The local midnight starting the day, plus `hours` on the wall clock."""
        midnight = self.start.astimezone(self.tz).replace(tzinfo=None)
        return (midnight + dt.timedelta(hours=hours)).replace(tzinfo=self.tz)


def _day_projection(
    day: Day, total: Decimal, rate_per_hour: Decimal, cap: Decimal | None, top: Decimal
) -> str:
    """From now at the last hour's rate, to the daily cap or the end of serving
    (`day.serving_end`: the day's end unless the last window closes earlier)."""
    if rate_per_hour <= 0 or day.serving_end <= day.now:
        return ""
    hours_left = Decimal((day.serving_end - day.now).total_seconds()) / 3600
    at_end = total + rate_per_hour * hours_left
    start = f"{day.x(day.now)},{_y(total, top)}"
    if cap is None or at_end <= cap or total >= cap:
        return f"{start} {day.x(day.serving_end)},{_y(at_end, top)}"
    reached = day.now + dt.timedelta(hours=float((cap - total) / rate_per_hour))
    return f"{start} {day.x(reached)},{_y(cap, top)}"


def _even_line(
    day: Day, cap: Decimal | None, top: Decimal, serving: Sequence[Window] | None
) -> str:
    """The daily cap spread evenly over the whole day (`serving` None), or over
    today's serving windows (standard delivery's even line: flat between
    them); nothing without a cap or with no window today."""
    if cap is None or (serving is not None and not serving):
        return ""
    if serving is None:
        return f"{day.x(day.start)},{_y(Decimal('0'), top)} {day.x(day.end)},{_y(cap, top)}"
    total = sum((int((closes - opens).total_seconds()) for opens, closes in serving), 0)
    points = [(day.start, 0)]
    for opens, closes in serving:
        points += [
            (opens, points[-1][1]),
            (closes, points[-1][1] + int((closes - opens).total_seconds())),
        ]
    points.append((day.end, total))
    return " ".join(f"{day.x(at)},{_y(cap * passed / total, top)}" for at, passed in points)


def _running_by_hour(
    hours: Sequence[tuple[dt.datetime, Decimal]], day: Day
) -> list[tuple[dt.datetime, dt.datetime, Decimal]]:
    """(end of the hour or now, the hour's local start, the running total) per hour."""
    running = Decimal("0")
    totals = []
    for start, amount in sorted(hours):
        running += amount
        hour_end = start.astimezone(dt.UTC) + dt.timedelta(hours=1)
        totals.append((min(hour_end, day.now), start, running))
    return totals


def intraday(
    hours: Sequence[tuple[dt.datetime, Decimal]],
    *,
    day: Day,
    cap: Decimal | None,
    rate_per_hour: Decimal,
    serving: Sequence[Window] | None = None,
) -> IntradayChart:
    """Today's spend summed by local hour (`hours`: each hour's start and spend),
    as a running total up to now, with the daily cap, the even-delivery line
    (the cap spread over the day, or over `serving`, today's serving windows,
    for a brand on standard delivery) and the projection at the last hour's
    rate up to the end of serving."""
    totals = _running_by_hour(hours, day)
    running = totals[-1][2] if totals else Decimal("0")
    hours_left = max((day.serving_end - day.now).total_seconds(), 0) / 3600
    projected_end = running + max(rate_per_hour, Decimal("0")) * Decimal(hours_left)
    top = _scale_top([running, min(projected_end, cap or projected_end), *([cap] if cap else [])])
    points = [(day.x(end), _y(total, top), f"{start:%H:%M}", total) for end, start, total in totals]
    line = [f"{day.x(day.start)},{_y(Decimal('0'), top)}", *(f"{x},{y}" for x, y, _, _ in points)]
    line.append(f"{day.x(day.now)},{_y(running, top)}")
    marks = [day.wall_clock(h) for h in range(0, 25, 6)]
    labels = [Label(f"{h:02d}:00", day.x(m)) for h, m in zip(range(0, 25, 6), marks, strict=True)]
    return IntradayChart(
        polyline=" ".join(line),
        points=points,
        total=running,
        cap=cap,
        cap_y=_y(cap, top) if cap is not None else None,
        allowance_line=_even_line(day, cap, top, serving),
        over_serving=serving is not None,
        projection=_day_projection(day, running, rate_per_hour, cap, top),
        now_x=day.x(day.now),
        ticks=_ticks(top),
        labels=labels,
    )


MINUTES_PER_DAY = 24 * 60


def _minutes(value: dt.time) -> int:
    return value.hour * 60 + value.minute


def _merge(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def week_windows(dayparts: Sequence[Daypart]) -> list[list[tuple[int, int]]]:
    """For Monday..Sunday, the minutes [start, end) of the local day a campaign may serve.

    No dayparts means all week. An overnight window (end at or before the
    start) belongs to its start day and spills into the next one; Sunday's
    spills into Monday, because the week repeats.
    """
    if not dayparts:
        return [[(0, MINUTES_PER_DAY)] for _ in WEEKDAYS]
    by_day: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
    for part in dayparts:
        start, end = _minutes(part.start_time), _minutes(part.end_time)
        for day in range(len(WEEKDAYS)):
            if not part.days & (1 << day):
                continue
            if end > start:
                by_day[day].append((start, end))
                continue
            by_day[day].append((start, MINUTES_PER_DAY))
            if end > 0:
                by_day[(day + 1) % len(WEEKDAYS)].append((0, end))
    return [_merge(windows) for windows in by_day]


@dataclass(frozen=True)
class GridRow:
    day: str
    y: float
    cells: list[tuple[float, float]]  # x and width of each serving window
    text: str


@dataclass(frozen=True)
class WeekGrid:
    rows: list[GridRow]
    hours: list[Label]
    now_x: float | None
    now_y: float | None
    all_week: bool
    width: int = WIDTH
    left: int = 48
    row_height: int = 22
    plot_width: int = WIDTH - 48 - RIGHT

    @property
    def height(self) -> int:
        return TOP + self.row_height * len(self.rows) + BOTTOM


def _clock(minutes: int) -> str:
    return "24:00" if minutes == MINUTES_PER_DAY else f"{minutes // 60:02d}:{minutes % 60:02d}"


def week_grid(dayparts: Sequence[Daypart], *, now_local: dt.datetime | None = None) -> WeekGrid:
    """The week as seven rows of 24 hours, shaded where the campaign may serve."""
    windows = week_windows(dayparts)
    left, row_height = 48, 22
    plot_width = WIDTH - left - RIGHT
    scale = plot_width / MINUTES_PER_DAY
    rows = []
    for index, day_windows in enumerate(windows):
        text = ", ".join(f"{_clock(s)}-{_clock(e)}" for s, e in day_windows) or "not serving"
        rows.append(
            GridRow(
                day=WEEKDAYS[index].capitalize(),
                y=TOP + index * row_height,
                cells=[
                    (round(left + s * scale, 1), round((e - s) * scale, 1)) for s, e in day_windows
                ],
                text=text,
            )
        )
    hours = [Label(text=f"{h:02d}", x=round(left + h * 60 * scale, 1)) for h in range(0, 25, 3)]
    now_x = now_y = None
    if now_local is not None:
        now_x = round(left + (now_local.hour * 60 + now_local.minute) * scale, 1)
        now_y = TOP + now_local.weekday() * row_height
    return WeekGrid(rows=rows, hours=hours, now_x=now_x, now_y=now_y, all_week=not dayparts)
