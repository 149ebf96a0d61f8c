"""Every admin page an account manager uses answers, with predictable queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from budgets.models import Period
from budgets.periods import local_date
from budgets.tests.factories import AlertFactory, BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory, CampaignStatusChangeFactory, DaypartFactory
from spend.tests.factories import BrandSpendFactory, SpendEventFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "budgets/budget",
    "budgets/brand",
    "budgets/alert",
    "campaigns/campaign",
    "campaigns/campaignstatuschange",
    "spend/spendevent",
    "spend/brandspend",
    "spend/budgetspend",
    "spend/campaignspend",
]


def _populate(rows: int) -> None:
    for _ in range(rows):
        budget = BudgetFactory.create()
        campaign = CampaignFactory.create(brand=budget.brand, budget=budget)
        DaypartFactory.create(campaign=campaign)
        SpendEventFactory.create(campaign=campaign)
        CampaignStatusChangeFactory.create(campaign=campaign)
        AlertFactory.create(brand=budget.brand)
        BrandSpendFactory.create(brand=budget.brand)


def _query_count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelist_query_count_does_not_grow_with_rows(staff_client: Client, model: str) -> None:
    url = f"/admin/{model}/"
    _populate(2)
    few = _query_count(staff_client, url)
    _populate(8)
    assert _query_count(staff_client, url) == few


def test_brand_list_shows_local_today_and_month_spend(staff_client: Client) -> None:
    brand = BrandFactory.create(timezone="Asia/Kolkata", daily_budget=Decimal("100.00"))
    today = local_date(timezone.now(), brand.timezone)
    BrandSpendFactory.create(
        brand=brand, period=Period.DAY, period_start=today, amount=Decimal("42.5")
    )
    BrandSpendFactory.create(
        brand=brand,
        period=Period.DAY,
        period_start=today - dt.timedelta(days=1),
        amount=Decimal("7"),
    )
    BrandSpendFactory.create(
        brand=brand, period=Period.MONTH, period_start=today.replace(day=1), amount=Decimal("99")
    )
    body = staff_client.get("/admin/budgets/brand/").content.decode()
    assert "42.50 / 100.00 USD" in body
    assert "99.00 / 3,000.00 USD" in body


def test_change_pages_open_for_every_editable_model(staff_client: Client) -> None:
    budget = BudgetFactory.create()
    campaign = CampaignFactory.create(brand=budget.brand, budget=budget)
    DaypartFactory.create(campaign=campaign)
    event = SpendEventFactory.create(campaign=campaign)
    for url in (
        f"/admin/budgets/brand/{budget.brand_id}/change/",
        f"/admin/budgets/budget/{budget.pk}/change/",
        f"/admin/campaigns/campaign/{campaign.pk}/change/",
        f"/admin/spend/spendevent/{event.pk}/change/",
    ):
        assert staff_client.get(url).status_code == 200, url


def test_the_ledger_cannot_be_changed_or_deleted_in_the_admin(staff_client: Client) -> None:
    event = SpendEventFactory.create()
    response = staff_client.post(f"/admin/spend/spendevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert staff_client.get("/admin/spend/spendevent/add/").status_code == 403


def test_pause_and_resume_actions_go_through_the_services(staff_client: Client) -> None:
    campaigns = CampaignFactory.create_batch(2)
    ids = [str(c.pk) for c in campaigns]
    response = staff_client.post(
        "/admin/campaigns/campaign/",
        {"action": "pause_selected", "_selected_action": ids},
        follow=True,
    )
    assert response.status_code == 200
    assert set(Campaign.objects.values_list("pause_reason", flat=True)) == {"manual"}
    assert CampaignStatusChange.objects.filter(actor="user").count() == 2

    Campaign.objects.filter(pk=campaigns[0].pk).update(schedule_hold="outside_daypart")
    response = staff_client.post(
        "/admin/campaigns/campaign/",
        {"action": "resume_selected", "_selected_action": ids},
        follow=True,
    )
    assert "1 of 2 campaign(s) now serving" in response.content.decode()
    assert Campaign.objects.get(pk=campaigns[0].pk).pause_reason == "outside_daypart"


def test_dayparts_are_edited_inline_with_weekday_checkboxes(staff_client: Client) -> None:
    campaign = CampaignFactory.create()
    url = f"/admin/campaigns/campaign/{campaign.pk}/change/"
    data = {
        "brand": campaign.brand_id,
        "name": campaign.name,
        "enabled": "on",
        "dayparts-TOTAL_FORMS": "1",
        "dayparts-INITIAL_FORMS": "0",
        "dayparts-MIN_NUM_FORMS": "0",
        "dayparts-MAX_NUM_FORMS": "1000",
        "dayparts-0-days": ["fri", "sat"],
        "dayparts-0-start_time": "22:00",
        "dayparts-0-end_time": "02:00",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    part = campaign.dayparts.get()
    assert part.day_names == ["fri", "sat"]
    assert part.is_overnight


def test_deletes_in_the_admin_go_through_the_services(staff_client: Client) -> None:
    brand = BrandFactory.create()
    unused = BudgetFactory.create_batch(2, brand=brand)
    campaign = CampaignFactory.create(brand=brand)
    response = staff_client.post(
        "/admin/budgets/budget/",
        {"action": "delete_selected", "_selected_action": [b.pk for b in unused], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert not brand.budgets.exists()
    response = staff_client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_a_brand_with_spend_is_not_deleted_from_the_admin(staff_client: Client) -> None:
    event = SpendEventFactory.create()
    response = staff_client.post(
        f"/admin/budgets/brand/{event.brand_id}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code in (200, 403)
    assert type(event.brand).objects.filter(pk=event.brand_id).exists()
