"""Pacing on the dashboard: the brands list's column, filter and sort, the
overview's counts, and the brand page's figures, charts and recommendation."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import User

from adserver.dashboard.tests.conftest import MakeClient, make_member
from budgets.models import Alert, Brand, Delivery, Period
from budgets.tests.factories import BrandFactory
from campaigns.tests.factories import CampaignFactory, DaypartFactory
from spend.tests.factories import BrandSpendFactory, SpendEventFactory

pytestmark = pytest.mark.django_db

# Noon on 10 January 2027 in UTC: 9.5 of January's 31 days gone.
NOW = dt.datetime(2027, 1, 10, 12, 0, tzinfo=dt.UTC)


def _brand(name: str, per_day: str, today: str) -> Brand:
    brand = BrandFactory.create(
        name=name, daily_budget=Decimal("200"), monthly_budget=Decimal("3100")
    )
    for day in range(1, 10):
        BrandSpendFactory.create(
            brand=brand, period_start=dt.date(2027, 1, day), amount=Decimal(per_day)
        )
    BrandSpendFactory.create(brand=brand, period_start=dt.date(2027, 1, 10), amount=Decimal(today))
    BrandSpendFactory.create(
        brand=brand,
        period=Period.MONTH,
        period_start=dt.date(2027, 1, 1),
        amount=Decimal(per_day) * 9 + Decimal(today),
    )
    return brand


@pytest.fixture
def brands() -> dict[str, Brand]:
    return {
        "Slow": _brand("Slow", "80", "40"),  # 80% of expected: under
        "Steady": _brand("Steady", "100", "50"),  # 100%
        "Fast": _brand("Fast", "150", "75"),  # 150%: over
        "Quick": _brand("Quick", "120", "60"),  # 120%: over
    }


def _listed(response: object) -> list[str]:
    html = response.content.decode()  # type: ignore[attr-defined]
    table = html.split('id="brands"', 1)[1]
    return re.findall(r'<td><a href="/brands/\d+/">([^<]+)</a></td>', table)


@time_machine.travel(NOW, tick=False)
def test_the_list_shows_each_brands_pacing(
    client_for: MakeClient, admin_user: User, brands: dict[str, Brand]
) -> None:
    html = client_for(admin_user).get("/brands/").content.decode()
    row = html.split(f'data-id="{brands["Slow"].pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-status="under"' in row
    assert 'data-percent="80.00"' in row
    assert 'data-projected="2480.00"' in row  # 760 + 80 x 21.5


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("pacing=over", ["Fast", "Quick"]),
        ("pacing=under", ["Slow"]),
        ("pacing=on_pace", ["Steady"]),
        ("sort=pacing", ["Slow", "Steady", "Quick", "Fast"]),
        ("sort=-pacing", ["Fast", "Quick", "Steady", "Slow"]),
        ("pacing=over&sort=-pacing", ["Fast", "Quick"]),
    ],
)
def test_the_list_filters_and_sorts_by_pacing(
    client_for: MakeClient, admin_user: User, brands: dict[str, Brand], query: str, names: list[str]
) -> None:
    response = client_for(admin_user).get(f"/brands/?{query}")
    assert response.status_code == 200
    assert _listed(response) == names


@time_machine.travel(NOW, tick=False)
def test_a_bad_pacing_filter_is_a_400_on_the_field(
    client_for: MakeClient, admin_user: User
) -> None:
    response = client_for(admin_user).get("/brands/?pacing=late")
    assert response.status_code == 400
    assert "pacing" in response.context["form"].errors


@time_machine.travel(NOW, tick=False)
def test_the_overview_counts_brands_under_and_over_pace_and_links_to_them(
    client_for: MakeClient, brands: dict[str, Brand]
) -> None:
    # A member sees only their brands' counts.
    member = make_member("member", views=[brands["Slow"], brands["Fast"], brands["Steady"]])

    html = client_for(member).get("/").content.decode()

    under = html.split('id="figure-under-pace"', 1)[1].split("</a>", 1)[0]
    over = html.split('id="figure-over-pace"', 1)[1].split("</a>", 1)[0]
    assert 'href="/brands/?pacing=under&amp;sort=pacing"' in under
    assert '<span class="value">1</span>' in under
    assert 'href="/brands/?pacing=over&amp;sort=-pacing"' in over
    assert '<span class="value">1</span>' in over  # Quick is not theirs


@time_machine.travel(NOW, tick=False)
def test_the_brand_page_shows_pacing_and_todays_hours(
    client_for: MakeClient, brands: dict[str, Brand]
) -> None:
    brand = brands["Steady"]
    campaign = CampaignFactory.create(brand=brand)
    for hour, amount in [(9, "20"), (11, "30")]:
        SpendEventFactory.create(
            campaign=campaign,
            amount=Decimal(amount),
            occurred_at=NOW.replace(hour=hour, minute=30),
        )
    manager = make_member("manager", manages=[brand])

    html = client_for(manager).get(brand.get_absolute_url()).content.decode()

    assert 'id="pacing-expected" data-value="950.00"' in html
    assert 'id="pacing-projected" data-value="3100.00"' in html
    assert 'id="pacing-cap-reached-on" data-value="2027-01-31"' in html
    # 150 left of 200 at the last hour's 30: 17:00.
    assert 'id="pacing-day-cap-reached-at" data-value="2027-01-10T17:00:00+00:00"' in html
    assert 'id="pacing-recommended" data-value="100.00"' in html
    # Today by hour: running totals at the end of 09:00 and 11:00.
    chart = html.split('id="intraday-chart-title"', 1)[1].split("</svg>", 1)[0]
    assert re.findall(r'data-hour="([\d:]+)" data-amount="([\d.]+)"', chart) == [
        ("09:00", "20.000000"),
        ("11:00", "50.000000"),
    ]
    assert 'class="projection"' in chart
    assert 'class="projection"' in html.split('id="month-chart-title"', 1)[1]
    link = f'href="/brands/{brand.pk}/edit/?daily_budget=100.00"'
    assert link in html


@time_machine.travel(NOW, tick=False)
def test_a_standard_brands_page_paces_within_its_serving_windows(
    client_for: MakeClient, brands: dict[str, Brand]
) -> None:
    brand = brands["Steady"]
    Brand.objects.filter(pk=brand.pk).update(delivery=Delivery.STANDARD)
    campaign = CampaignFactory.create(brand=brand)
    DaypartFactory.create(campaign=campaign, start_time=dt.time(9), end_time=dt.time(16))
    for hour, amount in [(9, "20"), (11, "30")]:
        SpendEventFactory.create(
            campaign=campaign,
            amount=Decimal(amount),
            occurred_at=NOW.replace(hour=hour, minute=30),
        )
    manager = make_member("manager", manages=[brand])

    html = client_for(manager).get(brand.get_absolute_url()).content.decode()

    # 150 left of 200 at 30 an hour: 17:00, after the only window closes at 16:00.
    assert 'id="pacing-day-cap-reached-at" data-value=""' in html
    chart = html.split('id="intraday-chart-title"', 1)[1].split("</figure>", 1)[0]
    # The even line: nothing until 09:00, the cap by 16:00, then flat.
    even = re.findall(r'class="pace" fill="none" points="([^"]+)"', chart)
    assert len(even) == 1
    assert len(even[0].split()) == 4
    assert "even delivery through today's serving windows" in chart
    # The projection stops at 16:00: 50 + 4 x 30 = 170, short of the cap.
    projection = re.findall(r'class="projection" points="([^"]+)"', chart)
    assert len(projection) == 1
    assert projection[0].split()[-1].split(",")[0] == even[0].split()[2].split(",")[0]


@time_machine.travel(NOW, tick=False)
def test_only_managers_get_the_link_to_the_recommended_budget(
    client_for: MakeClient, brands: dict[str, Brand]
) -> None:
    viewer = make_member("viewer", views=[brands["Slow"]])
    html = client_for(viewer).get(brands["Slow"].get_absolute_url()).content.decode()
    assert 'id="pacing-recommended"' in html
    assert 'id="use-recommended"' not in html


@time_machine.travel(NOW, tick=False)
def test_the_link_fills_the_form_and_the_manager_saves_it(
    client_for: MakeClient, brands: dict[str, Brand]
) -> None:
    brand = brands["Slow"]
    client = client_for(make_member("manager", manages=[brand]))

    form = client.get(f"/brands/{brand.pk}/edit/?daily_budget=116.36").context["form"]
    assert form["daily_budget"].value() == Decimal("116.36")
    brand.refresh_from_db()
    assert brand.daily_budget == Decimal("200.00")  # the link changes nothing

    data = {
        "name": brand.name,
        "timezone": brand.timezone,
        "currency": brand.currency,
        "daily_budget": "116.36",
        "monthly_budget": "3100.00",
    }
    assert client.post(f"/brands/{brand.pk}/edit/", data).status_code == 302
    brand.refresh_from_db()
    assert brand.daily_budget == Decimal("116.36")


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("value", ["abc", "-5", "0", "1e3", "12.345"])
def test_a_bad_suggested_cap_leaves_the_stored_one(
    client_for: MakeClient, brands: dict[str, Brand], value: str
) -> None:
    brand = brands["Slow"]
    client = client_for(make_member("manager", manages=[brand]))
    form = client.get(f"/brands/{brand.pk}/edit/", {"daily_budget": value}).context["form"]
    assert form["daily_budget"].value() == Decimal("200.00")


@time_machine.travel(NOW, tick=False)
def test_a_pacing_alert_shows_in_the_alerts_and_on_its_page(
    client_for: MakeClient, admin_user: User, brands: dict[str, Brand]
) -> None:
    from spend.pacing_alerts import pacing_alerts_raise

    pacing_alerts_raise()
    client = client_for(admin_user)
    listed = client.get("/alerts/").content.decode()
    assert listed.count("Under pace") == 1
    assert listed.count("Over pace") == 2  # Fast and Quick

    alert = Alert.objects.get(brand=brands["Slow"])
    html = client.get(alert.get_absolute_url()).content.decode()
    assert "Under pace: the brand in January 2027" in html
    assert "Slow is under pace for 2027-01: projected 2,480 of 3,100 USD (80%)" in html


@time_machine.travel(NOW, tick=False)
def test_the_csv_of_a_pacing_filter_holds_the_same_brands(
    client_for: MakeClient, admin_user: User, brands: dict[str, Brand]
) -> None:
    response = client_for(admin_user).get("/brands/?pacing=over&sort=-pacing&format=csv")
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    names = [line.split(",")[1] for line in body.splitlines()[1:]]
    assert names == ["Fast", "Quick"]
