"""Every list as CSV: the rows of the page under the same filters, for the
same person, with plain money beside its currency and times with offsets;
streamed in chunks."""

import csv
import datetime as dt
import html
import io
import re
from decimal import Decimal
from urllib.parse import urljoin

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from adserver.dashboard import exports
from adserver.dashboard.tests.conftest import MakeClient, make_member
from budgets.models import AlertScope, Brand, Period
from budgets.tests.factories import AlertFactory, BrandFactory, BudgetFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory, CampaignStatusChangeFactory
from spend.models import SpendKind
from spend.tests.factories import BrandSpendFactory, SpendEventFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 20, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content[:1000]
    return response.content.decode()


def _page_ids(client: Client, url: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-id="(\d+)"', _page(client, url))]


def _csv_link(client: Client, url: str) -> str:
    """The page's own "Download CSV" link."""
    found = re.search(r'<a class="csv-link" href="([^"]+)"', _page(client, url))
    assert found is not None, url
    return urljoin(url, html.unescape(found.group(1)))


def _csv(client: Client, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(text)))


def _brand(name: str, tz: str, currency: str) -> Brand:
    brand = BrandFactory.create(
        name=name, timezone=tz, currency=currency, daily_budget=Decimal("1000")
    )
    budget = BudgetFactory.create(brand=brand, name=f"{name} pool", daily_limit=Decimal("50"))
    serving = CampaignFactory.create(brand=brand, budget=budget, name=f"{name} serving")
    paused = CampaignFactory.create(brand=brand, name=f"{name} paused", enabled=False)
    BrandSpendFactory.create(brand=brand, period_start=TODAY, amount=Decimal("250.5"))
    for hour, campaign in enumerate([serving, paused, serving]):
        SpendEventFactory.create(
            campaign=campaign,
            amount=Decimal("1234.5678"),
            occurred_at=NOW - dt.timedelta(hours=hour),
            campaign_was_serving=campaign.enabled,
        )
    SpendEventFactory.create(
        campaign=serving, kind=SpendKind.ADJUSTMENT, amount=Decimal("-3"), occurred_at=NOW
    )
    AlertFactory.create(brand=brand, period_start=TODAY, raised_at=NOW)
    AlertFactory.create(
        brand=brand,
        budget=budget,
        scope=AlertScope.BUDGET,
        period=Period.MONTH,
        period_start=TODAY.replace(day=1),
        threshold=80,
        raised_at=NOW - dt.timedelta(hours=1),
    )
    for minutes in (0, 5):
        CampaignStatusChangeFactory.create(
            campaign=paused, changed_at=NOW - dt.timedelta(minutes=minutes)
        )
    CampaignStatusChangeFactory.create(campaign=serving, changed_at=NOW)
    return brand


@pytest.fixture
def brands() -> dict[str, Brand]:
    return {
        "paris": _brand("Paris", "Europe/Paris", "JPY"),
        "york": _brand("York", "America/New_York", "USD"),
        "hidden": _brand("Hidden", "UTC", "EUR"),
    }


@pytest.fixture
def member(brands: dict[str, Brand]) -> User:
    return make_member("csv-viewer", views=[brands["paris"], brands["york"]])


def _urls(brands: dict[str, Brand]) -> list[str]:
    paris = brands["paris"]
    paused = Campaign.objects.get(brand=paris, enabled=False)
    return [
        "/brands/",
        "/brands/?sort=-daily&q=r",
        "/budgets/",
        f"/budgets/?brand={paris.pk}",
        "/campaigns/",
        f"/campaigns/?brand={paris.pk}&status=paused",
        "/spend/",
        f"/spend/?brand={paris.pk}&kind=spend&date_from=2026-03-10&date_to=2026-03-10",
        "/alerts/",
        f"/alerts/?brand={paris.pk}&period=day",
        "/history/",
        f"/history/?campaign={paused.pk}",
    ]


@time_machine.travel(NOW, tick=False)
def test_each_list_as_csv_holds_the_pages_rows_under_the_same_filters(
    brands: dict[str, Brand], member: User, client_for: MakeClient
) -> None:
    client = client_for(member)
    hidden = str(brands["hidden"].pk)

    for url in _urls(brands):
        shown = _page_ids(client, url)
        exported = _csv(client, _csv_link(client, url))

        assert shown, url  # every case selects some rows
        assert [int(row["id"]) for row in exported] == shown, url
        brand_ids = {row.get("brand_id", row["id"]) for row in exported}
        assert hidden not in brand_ids, url


@time_machine.travel(NOW, tick=False)
def test_csv_money_is_a_plain_decimal_beside_its_currency_and_times_carry_the_offset(
    brands: dict[str, Brand], staff_client: Client
) -> None:
    paris = brands["paris"]

    spend = _csv(staff_client, f"/spend/?brand={paris.pk}&kind=spend&format=csv")
    brand_row = _csv(staff_client, "/brands/?q=Paris&format=csv")[0]

    first = spend[0]
    assert first["amount"] == "1234.567800"
    assert first["currency"] == "JPY"
    assert first["occurred_at"] == "2026-03-10T21:00:00+01:00"
    assert first["local_date"] == "2026-03-10"
    assert {row["counted_as"] for row in spend} == {"served", "overspend"}
    assert brand_row["daily_spend"] == "250.500000"
    assert brand_row["daily_budget"] == "1000.00"
    assert brand_row["daily_remaining"] == "749.500000"
    assert brand_row["currency"] == "JPY"
    CampaignFactory.create(brand=paris, name="Paris capped", budget_hold="brand_daily_budget")
    campaigns = {row["name"]: row for row in _csv(staff_client, "/campaigns/?q=Paris&format=csv")}
    # 21:00 in Paris: the brand's new day opens at midnight, its offset written.
    assert campaigns["Paris capped"]["serves_again_at"] == "2026-03-11T00:00:00+01:00"
    assert campaigns["Paris capped"]["serves_again"] == "from 00:00 CET, when the new day opens"
    paused = campaigns["Paris paused"]
    assert paused["serves_again_at"] == ""
    assert paused["serves_again"].startswith("needs a person: paused by hand")
    assert campaigns["Paris serving"]["serves_again"] == ""


@time_machine.travel(NOW, tick=False)
def test_csv_of_an_invisible_brand_is_refused_as_the_page(
    brands: dict[str, Brand], member: User, client_for: MakeClient
) -> None:
    response = client_for(member).get(f"/spend/?brand={brands['hidden'].pk}&format=csv")

    assert response.status_code == 400
    assert "brand" in response.content.decode()


def test_an_unknown_format_is_a_400_naming_the_field(staff_client: Client) -> None:
    response = staff_client.get("/campaigns/?format=xlsx")

    assert response.status_code == 400
    assert "format" in response.content.decode().lower()


@time_machine.travel(NOW, tick=False)
def test_the_spend_csv_reads_the_ledger_in_chunks_by_keyset(
    brands: dict[str, Brand], staff_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "CHUNK_ROWS", 3)

    with CaptureQueriesContext(connection) as queries:
        rows = _csv(staff_client, "/spend/?format=csv")
    reads = [q["sql"] for q in queries if 'FROM "spend_spendevent"' in q["sql"]]

    assert len(rows) == 12
    assert [int(row["id"]) for row in rows] == _page_ids(staff_client, "/spend/")
    # 12 rows in chunks of 3: four full chunks and the empty one that ends it.
    assert len(reads) == 5
    assert all("LIMIT 3" in sql for sql in reads)


@time_machine.travel(NOW, tick=False)
def test_a_name_that_reads_as_a_formula_stays_text_in_the_csv(staff_client: Client) -> None:
    brand = BrandFactory.create(name='=HYPERLINK("http://example.com")')
    campaign = CampaignFactory.create(brand=brand, name="@SUM(A1)")
    SpendEventFactory.create(campaign=campaign, kind=SpendKind.ADJUSTMENT, amount=Decimal("-2"))

    row = _csv(staff_client, f"/spend/?brand={brand.pk}&format=csv")[0]

    assert row["brand"] == '\'=HYPERLINK("http://example.com")'
    assert row["campaign"] == "'@SUM(A1)"
    assert row["amount"] == "-2.000000"  # numbers are numbers
