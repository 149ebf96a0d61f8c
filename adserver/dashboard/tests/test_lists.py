"""What the list and detail pages show: filters, sorting, brand-local days,
money in the brand's currency, and a clear 400 for a bad filter."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from adserver.dashboard import log_views
from budgets.models import Brand, Period
from budgets.tests.factories import AlertFactory, BrandFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory, CampaignStatusChangeFactory
from spend.models import SpendEvent, SpendKind
from spend.senders import Sender
from spend.services import spend_record
from spend.tests.factories import BrandSpendFactory, SpendEventFactory

pytestmark = pytest.mark.django_db

# 20:00 UTC on March 10: already March 11 in Tokyo, still March 10 in New York.
NOW = dt.datetime(2026, 3, 10, 20, 0, tzinfo=dt.UTC)


def _ids(body: str, table: str = "") -> list[int]:
    """The data-id of each row, in page order (optionally within one table id)."""
    if table:
        body = body.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [int(pk) for pk in re.findall(r'<tr data-id="(\d+)"', body)]


def _daily(brand: Brand, day: dt.date, amount: str) -> None:
    BrandSpendFactory.create(
        brand=brand, period=Period.DAY, period_start=day, amount=Decimal(amount)
    )


@time_machine.travel(NOW, tick=False)
def test_brands_sort_by_todays_utilisation_in_each_brands_own_today(
    staff_client: Client,
) -> None:
    tokyo = BrandFactory.create(name="Tokyo", timezone="Asia/Tokyo", daily_budget=Decimal("100"))
    york = BrandFactory.create(
        name="York", timezone="America/New_York", daily_budget=Decimal("1000")
    )
    idle = BrandFactory.create(name="Idle", daily_budget=Decimal("10"))
    _daily(tokyo, dt.date(2026, 3, 11), "50")  # Tokyo's today: 50%
    _daily(tokyo, dt.date(2026, 3, 10), "99")  # Tokyo's yesterday: not counted
    _daily(york, dt.date(2026, 3, 10), "900")  # New York's today: 90%

    most_used_first = staff_client.get("/brands/?sort=-daily").content.decode()
    least_used_first = staff_client.get("/brands/?sort=daily").content.decode()

    assert _ids(most_used_first) == [york.pk, tokyo.pk, idle.pk]
    assert _ids(least_used_first) == [idle.pk, tokyo.pk, york.pk]
    assert "50.00 USD" in most_used_first
    assert "99.00 USD" not in most_used_first


@time_machine.travel(NOW, tick=False)
def test_brands_at_cap_filter_matches_the_overview_count(staff_client: Client) -> None:
    at_cap = BrandFactory.create(name="At cap", daily_budget=Decimal("100"))
    under = BrandFactory.create(name="Under", daily_budget=Decimal("100"))
    _daily(at_cap, dt.date(2026, 3, 10), "100")
    _daily(under, dt.date(2026, 3, 10), "99.99")

    overview = staff_client.get("/").content.decode()
    listed = staff_client.get("/brands/?over=daily").content.decode()

    figure = re.search(r'id="figure-over-daily"[^>]*><span class="value">(\d+)<', overview)
    assert figure is not None
    assert figure.group(1) == "1"
    assert _ids(listed) == [at_cap.pk]


@time_machine.travel(NOW, tick=False)
def test_brands_search_and_currency_filters(staff_client: Client) -> None:
    coffee = BrandFactory.create(name="Northwind Coffee", currency="USD")
    BrandFactory.create(name="Northwind Tea", currency="EUR")
    BrandFactory.create(name="Fjord", currency="USD")

    body = staff_client.get("/brands/?q=northwind&currency=USD").content.decode()

    assert _ids(body) == [coffee.pk]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/brands/?currency=usd", "currency"),
        ("/brands/?sort=price", "sort"),
        ("/brands/?page=0", "page"),
        ("/campaigns/?status=sleeping", "status"),
        ("/campaigns/?reason=whim", "reason"),
        ("/campaigns/?brand=999999", "brand"),
        ("/campaigns/?brand=abc", "brand"),
        ("/budgets/?brand=999999", "brand"),
        ("/spend/?before=yesterday", "before"),
        ("/spend/?date_from=2026-03-10&date_to=2026-03-01", "date_to"),
        ("/spend/?date_from=2026-13-01", "date_from"),
        ("/alerts/?threshold=70", "threshold"),
        ("/history/?actor=robot", "actor"),
        ("/history/?campaign=999999", "campaign"),
    ],
)
def test_a_bad_filter_is_a_400_that_names_the_field(
    staff_client: Client, url: str, field: str
) -> None:
    response = staff_client.get(url)
    assert response.status_code == 400
    assert f"<strong>{field}</strong>:" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_campaigns_filter_by_status_reason_and_brand(staff_client: Client) -> None:
    brand = BrandFactory.create()
    active = CampaignFactory.create(brand=brand, name="A")
    manual = CampaignFactory.create(brand=brand, name="B", enabled=False)
    held = CampaignFactory.create(brand=brand, name="C")
    Campaign.objects.filter(pk=held.pk).update(budget_hold="brand_daily_budget")
    CampaignFactory.create(name="Elsewhere", enabled=False)

    paused_here = staff_client.get(f"/campaigns/?brand={brand.pk}&status=paused").content.decode()
    manual_anywhere = staff_client.get("/campaigns/?reason=manual").content.decode()
    active_here = staff_client.get(f"/campaigns/?brand={brand.pk}&status=active").content.decode()

    assert _ids(paused_here) == [manual.pk, held.pk]
    assert 'data-reason="brand_daily_budget">Brand daily budget spent' in paused_here
    assert len(_ids(manual_anywhere)) == 2
    assert _ids(active_here) == [active.pk]
    assert f'Brand: <a href="/brands/{brand.pk}/">' in paused_here


@time_machine.travel(NOW, tick=False)
def test_brand_page_shows_money_in_its_currency_and_times_in_its_zone(
    staff_client: Client,
) -> None:
    brand = BrandFactory.create(
        timezone="Asia/Kolkata", currency="INR", daily_budget=Decimal("25000")
    )
    _daily(brand, dt.date(2026, 3, 11), "12500.5")
    CampaignStatusChangeFactory.create(
        campaign=CampaignFactory.create(brand=brand),
        changed_at=dt.datetime(2026, 3, 10, 19, 0, tzinfo=dt.UTC),
    )

    body = staff_client.get(brand.get_absolute_url()).content.decode()

    assert "Times in Asia/Kolkata" in body
    assert "Today, Wed 11 Mar 2026" in body
    assert "12,500.50 INR</span> / 25,000.00 INR" in body
    assert '<span class="pct">50%</span>' in body
    assert ">2026-03-11 00:30 IST</time>" in body


@time_machine.travel(NOW, tick=False)
def test_brand_page_charts_the_last_30_local_days_and_the_month_so_far(
    staff_client: Client,
) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"), monthly_budget=Decimal("1000"))
    _daily(brand, dt.date(2026, 2, 9), "7")  # the first of the 30 days
    _daily(brand, dt.date(2026, 2, 8), "1000")  # one day too old
    _daily(brand, dt.date(2026, 3, 1), "85")
    _daily(brand, dt.date(2026, 3, 10), "120")

    body = staff_client.get(brand.get_absolute_url()).content.decode()
    bars = dict(re.findall(r'class="bar-\w+"[^>]*data-day="([\d-]+)" data-amount="([\d.]+)"', body))
    levels = {
        day: lvl for lvl, day in re.findall(r'class="bar-(\w+)"[^>]*data-day="([\d-]+)"', body)
    }
    points = dict(re.findall(r'<circle[^>]*data-day="([\d-]+)" data-amount="([\d.]+)"', body))

    assert len(bars) == 30
    assert min(bars) == "2026-02-09"
    assert Decimal(bars["2026-02-09"]) == 7
    assert Decimal(bars["2026-03-10"]) == 120
    assert [day for day, lvl in levels.items() if lvl == "over"] == ["2026-03-10"]
    assert levels["2026-03-01"] == "warn"  # 85 of 100: past 80%
    assert len(points) == 10
    assert Decimal(points["2026-03-01"]) == 85
    assert Decimal(points["2026-03-10"]) == 205


@time_machine.travel(NOW, tick=False)
def test_spend_log_pages_by_cursor_through_every_event_once(staff_client: Client) -> None:
    campaign = CampaignFactory.create()
    same_instant = NOW - dt.timedelta(hours=1)
    for i in range(120):
        at = same_instant if i < 10 else NOW - dt.timedelta(minutes=i)
        SpendEventFactory.create(campaign=campaign, occurred_at=at)

    seen: list[int] = []
    url = "/spend/"
    pages = 0
    while url:
        body = staff_client.get(url).content.decode()
        seen += _ids(body, "spend")
        older = re.search(r'href="(\?[^"]*before=[^"]+)">Older', body)
        url = "/spend/" + older.group(1).replace("&amp;", "&") if older else ""
        pages += 1

    expected = list(SpendEvent.objects.order_by("-occurred_at", "-id").values_list("id", flat=True))
    assert pages == 3
    assert seen == expected

    # and back: "Newer" from the last page returns the page before it
    last_cursor = re.findall(r"before=([\d_]+)", body)
    newer = re.search(r'href="(\?[^"]*after=[^"]+)">← Newer', body)
    assert newer is not None
    back = staff_client.get("/spend/" + newer.group(1).replace("&amp;", "&")).content.decode()
    assert _ids(back, "spend") == expected[50:100]
    assert not last_cursor  # the last page has no "Older" link


@time_machine.travel(NOW, tick=False)
def test_spend_date_range_is_the_brands_local_day(staff_client: Client) -> None:
    tokyo = CampaignFactory.create(brand=BrandFactory.create(timezone="Asia/Tokyo"))
    york = CampaignFactory.create(brand=BrandFactory.create(timezone="America/New_York"))
    # 16:00 UTC on the 9th is the 10th in Tokyo and the 9th in New York.
    instant = dt.datetime(2026, 3, 9, 16, 0, tzinfo=dt.UTC)
    in_tokyo = SpendEventFactory.create(campaign=tokyo, occurred_at=instant)
    SpendEventFactory.create(campaign=york, occurred_at=instant)
    in_york = SpendEventFactory.create(
        campaign=york, occurred_at=dt.datetime(2026, 3, 11, 3, 0, tzinfo=dt.UTC)
    )

    body = staff_client.get("/spend/?date_from=2026-03-10&date_to=2026-03-10").content.decode()

    assert sorted(_ids(body, "spend")) == sorted([in_tokyo.pk, in_york.pk])


@time_machine.travel(NOW, tick=False)
def test_history_date_range_and_brand_filter_use_the_brands_local_day(
    staff_client: Client,
) -> None:
    york = CampaignFactory.create(brand=BrandFactory.create(timezone="America/New_York"))
    tokyo = CampaignFactory.create(brand=BrandFactory.create(timezone="Asia/Tokyo"))
    # 02:00 UTC on the 10th: the 9th in New York, the 10th in Tokyo.
    instant = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)
    york_change = CampaignStatusChangeFactory.create(campaign=york, changed_at=instant)
    tokyo_change = CampaignStatusChangeFactory.create(campaign=tokyo, changed_at=instant)

    on_the_9th = staff_client.get("/history/?date_from=2026-03-09&date_to=2026-03-09")
    on_the_10th = staff_client.get("/history/?date_from=2026-03-10")
    of_york = staff_client.get(f"/history/?brand={york.brand_id}&date_to=2026-03-09")

    assert _ids(on_the_9th.content.decode()) == [york_change.pk]
    assert _ids(on_the_10th.content.decode()) == [tokyo_change.pk]
    assert _ids(of_york.content.decode()) == [york_change.pk]


@time_machine.travel(NOW, tick=False)
def test_open_alerts_are_this_periods_unacknowledged_ones(staff_client: Client) -> None:
    brand = BrandFactory.create(timezone="Asia/Tokyo")
    today = AlertFactory.create(brand=brand, period_start=dt.date(2026, 3, 11), raised_at=NOW)
    month = AlertFactory.create(
        brand=brand, period=Period.MONTH, period_start=dt.date(2026, 3, 1), raised_at=NOW
    )
    AlertFactory.create(brand=brand, period_start=dt.date(2026, 3, 10), raised_at=NOW)
    AlertFactory.create(
        brand=brand, period_start=dt.date(2026, 3, 11), threshold=80, acknowledged_at=NOW
    )

    body = staff_client.get("/alerts/?state=open").content.decode()
    overview = staff_client.get("/").content.decode()

    assert sorted(_ids(body)) == sorted([today.pk, month.pk])
    assert re.search(r'id="figure-open-alerts"[^>]*><span class="value">2<', overview)


@time_machine.travel(NOW, tick=False)
def test_overview_counts_link_to_the_lists_behind_them(staff_client: Client) -> None:
    brand = BrandFactory.create(currency="EUR", daily_budget=Decimal("200"))
    CampaignFactory.create(brand=brand)
    CampaignFactory.create(brand=brand, enabled=False)
    _daily(brand, dt.date(2026, 3, 10), "50")
    BrandFactory.create(currency="USD", daily_budget=Decimal("100"))

    body = staff_client.get("/").content.decode()

    assert re.search(r'href="/campaigns/\?status=active"><span class="value">1<', body)
    assert re.search(r'href="/campaigns/\?status=paused"><span class="value">1<', body)
    assert 'href="/campaigns/?reason=manual">Paused manually</a></td><td class="num">1<' in body
    assert "50.00 EUR</span> / 200.00 EUR" in body
    assert "0.00 USD</span> / 100.00 USD" in body


@time_machine.travel(NOW, tick=False)
def test_long_logs_count_only_up_to_the_page_bound(
    staff_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_views, "LOG_PAGES_REACH", 3)
    campaign = CampaignFactory.create()
    for minutes in range(5):
        CampaignStatusChangeFactory.create(
            campaign=campaign, changed_at=NOW - dt.timedelta(minutes=minutes)
        )

    history = staff_client.get("/history/").content.decode()
    campaigns = staff_client.get("/campaigns/").content.decode()

    assert "3+ in all" in history
    assert "narrow the filters to see the rest" in history
    assert len(_ids(history)) == 3  # never more than the bound, even on one page
    assert "1 in all" in campaigns  # an exact count where counting is cheap


@time_machine.travel(NOW, tick=False)
def test_campaign_search_matches_the_campaign_or_its_brand(staff_client: Client) -> None:
    fjord = BrandFactory.create(name="Fjord Outdoor")
    by_brand = CampaignFactory.create(brand=fjord, name="Winter")
    by_name = CampaignFactory.create(name="Fjord cruises")
    CampaignFactory.create(name="Summer")

    body = staff_client.get("/campaigns/?q=fjord").content.decode()

    assert sorted(_ids(body)) == sorted([by_brand.pk, by_name.pk])


@time_machine.travel(NOW, tick=False)
def test_spend_log_shows_adjustments_as_such_with_who_made_them(staff_client: Client) -> None:
    campaign = CampaignFactory.create()
    feed = Sender(source="google-ads", may_adjust=False, brand_ids=frozenset({campaign.brand_id}))
    spent = spend_record(campaign_id=campaign.pk, amount=Decimal("40"), sender=feed).event
    refund = spend_record(
        campaign_id=campaign.pk,
        amount=Decimal("-15"),
        kind=SpendKind.ADJUSTMENT,
        occurred_at=NOW,
        sender=Sender(source="user:ann", may_adjust=True, brand_ids=None),
    ).event

    body = staff_client.get("/spend/").content.decode()
    rows = dict(re.findall(r'<tr data-id="(\d+)"(.*?)</tr>', body, flags=re.DOTALL))

    assert 'class="adjustment"' in rows[str(refund.pk)]
    assert "<strong>Adjustment</strong> by user:ann" in rows[str(refund.pk)]
    assert "adjustment" not in rows[str(spent.pk)].lower()
    assert "google-ads" in rows[str(spent.pk)]
    only = staff_client.get("/spend/?kind=adjustment").content.decode()
    assert _ids(only, "spend") == [refund.pk]
    detail = staff_client.get(f"/spend/{refund.pk}/").content.decode()
    assert "<strong>Adjustment</strong> (refund or correction) by user:ann" in detail
