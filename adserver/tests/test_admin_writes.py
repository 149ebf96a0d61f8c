"""Admin edits go through the write services: validated, announced, recorded."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from budgets.models import Brand, Budget, SettingChange
from budgets.tests.factories import AlertFactory, BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange, Daypart
from campaigns.tests.factories import CampaignFactory
from spend.services import spend_record

pytestmark = pytest.mark.django_db

NO_DAYPARTS = {
    "dayparts-TOTAL_FORMS": "0",
    "dayparts-INITIAL_FORMS": "0",
    "dayparts-MIN_NUM_FORMS": "0",
    "dayparts-MAX_NUM_FORMS": "1000",
}
# The brand page's members inline (an agency admin sees it).
NO_MEMBERS = {
    "memberships-TOTAL_FORMS": "0",
    "memberships-INITIAL_FORMS": "0",
    "memberships-MIN_NUM_FORMS": "0",
    "memberships-MAX_NUM_FORMS": "1000",
}


def test_a_new_brand_cap_from_the_admin_is_announced(
    staff_client: Client, announced: list[frozenset[int]]
) -> None:
    brand = BrandFactory.create()
    response = staff_client.post(
        f"/admin/budgets/brand/{brand.pk}/change/",
        {
            "name": brand.name,
            "timezone": brand.timezone,
            "currency": brand.currency,
            "daily_budget": "12.50",
            "monthly_budget": str(brand.monthly_budget),
            **NO_MEMBERS,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Brand.objects.get(pk=brand.pk).daily_budget == Decimal("12.50")
    assert announced == [frozenset({brand.pk})]


def test_adding_a_campaign_with_a_daypart_in_the_admin_announces_both(
    staff_client: Client, announced: list[frozenset[int]]
) -> None:
    brand = BrandFactory.create()
    response = staff_client.post(
        "/admin/campaigns/campaign/add/",
        {
            "brand": brand.pk,
            "name": "Night owls",
            "enabled": "on",
            **NO_DAYPARTS,
            "dayparts-TOTAL_FORMS": "1",
            "dayparts-0-days": ["fri"],
            "dayparts-0-start_time": "22:00",
            "dayparts-0-end_time": "02:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert response["Location"].endswith("/admin/campaigns/campaign/")
    assert Daypart.objects.get().campaign == campaign
    assert announced == [frozenset({brand.pk})] * 2


def test_the_admin_refuses_another_brands_budget_on_the_budget_field(
    staff_client: Client,
) -> None:
    campaign = CampaignFactory.create()
    foreign = BudgetFactory.create()
    response = staff_client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/change/",
        {"name": campaign.name, "budget": foreign.pk, "enabled": "on", **NO_DAYPARTS},
    )
    assert response.status_code == 200
    # The list holds the campaign's brand's budgets only: another's is no choice.
    assert list(response.context["adminform"].form.errors) == ["budget"]
    assert "not one of the available choices" in str(
        response.context["adminform"].form.errors["budget"]
    )
    assert Campaign.objects.get(pk=campaign.pk).budget is None


def test_the_admin_lists_only_the_campaigns_brands_budgets(staff_client: Client) -> None:
    campaign = CampaignFactory.create()
    own = BudgetFactory.create(brand=campaign.brand, name="Always-on")
    foreign = BudgetFactory.create(name="Elsewhere")
    response = staff_client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    choices = list(response.context["adminform"].form.fields["budget"].queryset)
    assert choices == [own]
    assert foreign.name not in response.content.decode()


def test_the_admin_refuses_a_budget_of_another_brand_on_a_new_campaign(
    staff_client: Client,
) -> None:
    brand = BrandFactory.create(name="Northwind")
    foreign = BudgetFactory.create(name="Elsewhere")
    response = staff_client.post(
        "/admin/campaigns/campaign/add/",
        {"brand": brand.pk, "name": "Night owls", "budget": foreign.pk, **NO_DAYPARTS},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "budget": ["This budget belongs to another brand."]
    }
    assert not Campaign.objects.exists()


def test_the_admin_shows_a_flight_that_ends_before_it_starts_on_the_end_date(
    staff_client: Client,
) -> None:
    brand = BrandFactory.create()
    response = staff_client.post(
        "/admin/campaigns/campaign/add/",
        {
            "brand": brand.pk,
            "name": "Backwards",
            "starts_on": "2026-05-10",
            "ends_on": "2026-05-01",
            **NO_DAYPARTS,
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "ends_on": ["The flight cannot end before it starts."]
    }
    assert not Campaign.objects.exists()


def test_the_admin_upper_cases_the_currency_and_refuses_a_daily_budget_above_the_monthly(
    staff_client: Client,
) -> None:
    data = {
        "name": "Fjord",
        "timezone": "europe/oslo",
        "currency": "nok",
        "daily_budget": "500",
        "monthly_budget": "400",
        **NO_MEMBERS,
    }
    response = staff_client.post("/admin/budgets/brand/add/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["daily_budget"]
    assert "cannot be above the monthly budget" in errors["daily_budget"][0]
    assert not Brand.objects.exists()

    response = staff_client.post("/admin/budgets/brand/add/", {**data, "monthly_budget": "9000"})
    assert response.status_code == 302, response.content.decode()[:2000]
    brand = Brand.objects.get()
    assert (brand.currency, brand.timezone) == ("NOK", "Europe/Oslo")


def test_the_admin_sets_standard_delivery_through_the_service(staff_client: Client) -> None:
    brand = BrandFactory.create(name="Fjord", timezone="Europe/Oslo", currency="NOK")
    data = {
        "name": "Fjord",
        "timezone": "Europe/Oslo",
        "currency": "NOK",
        "daily_budget": "100.00",
        "monthly_budget": "3000.00",
        "delivery": "standard",
        **NO_MEMBERS,
    }
    response = staff_client.post(f"/admin/budgets/brand/{brand.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    brand.refresh_from_db()
    assert brand.delivery == "standard"
    change = SettingChange.objects.get(brand=brand, field="delivery")
    assert (change.via, change.before, change.after) == ("admin", "accelerated", "standard")


def test_the_admin_warns_of_a_budget_limit_above_its_brands_cap(staff_client: Client) -> None:
    brand = BrandFactory.create(daily_budget=Decimal("100"))
    response = staff_client.post(
        "/admin/budgets/budget/add/",
        {"brand": brand.pk, "name": "Generous", "daily_limit": "150", "monthly_limit": ""},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("daily limit 150.00 USD is above" in m for m in shown), shown
    assert Budget.objects.get().daily_limit == Decimal("150")


def test_unticking_enabled_in_the_admin_is_a_manual_pause_by_that_person(
    staff_client: Client, staff_user: User
) -> None:
    campaign = CampaignFactory.create()
    response = staff_client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/change/",
        {"name": campaign.name, **NO_DAYPARTS},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Campaign.objects.get(pk=campaign.pk).pause_reason == "manual"
    change = CampaignStatusChange.objects.get()
    assert (change.actor, change.user) == ("user", staff_user)


def test_deleting_a_daypart_inline_goes_through_the_service(
    staff_client: Client, announced: list[frozenset[int]]
) -> None:
    campaign = CampaignFactory.create()
    daypart = Daypart.objects.create(
        campaign=campaign, days=1, start_time="09:00", end_time="17:00"
    )
    response = staff_client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/change/",
        {
            "name": campaign.name,
            "enabled": "on",
            **NO_DAYPARTS,
            "dayparts-TOTAL_FORMS": "1",
            "dayparts-INITIAL_FORMS": "1",
            "dayparts-0-id": daypart.pk,
            "dayparts-0-campaign": campaign.pk,
            "dayparts-0-days": ["mon"],
            "dayparts-0-start_time": "09:00",
            "dayparts-0-end_time": "17:00",
            "dayparts-0-DELETE": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Daypart.objects.exists()
    assert announced == [frozenset({campaign.brand_id})]


def test_a_brands_time_zone_is_read_only_in_the_admin_once_it_has_spend(
    staff_client: Client,
) -> None:
    brand = BrandFactory.create(timezone="Europe/Paris")
    url = f"/admin/budgets/brand/{brand.pk}/change/"
    assert 'name="timezone"' in staff_client.get(url).content.decode()
    spend_record(campaign_id=CampaignFactory.create(brand=brand).pk, amount=Decimal("1"))

    page = staff_client.get(url).content.decode()
    response = staff_client.post(
        url,
        {
            "name": brand.name,
            "timezone": "Asia/Tokyo",  # not a field of the form any more: ignored
            "currency": brand.currency,
            "daily_budget": "12.50",
            "monthly_budget": str(brand.monthly_budget),
            **NO_MEMBERS,
        },
    )

    assert 'name="timezone"' not in page
    assert "its days and months are already counted in Europe/Paris" in page
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = Brand.objects.get(pk=brand.pk)
    assert (saved.timezone, saved.daily_budget) == ("Europe/Paris", Decimal("12.50"))


def test_the_admin_acknowledges_selected_alerts_recording_who(
    staff_client: Client, staff_user: User
) -> None:
    alerts = [AlertFactory.create(threshold=t) for t in (50, 80)]
    response = staff_client.post(
        "/admin/budgets/alert/",
        {"action": "acknowledge_selected", "_selected_action": [a.pk for a in alerts]},
        follow=True,
    )
    assert response.status_code == 200
    assert "2 of 2 alert(s) acknowledged." in response.content.decode()
    for alert in alerts:
        alert.refresh_from_db()
        assert alert.acknowledged_at is not None
        assert alert.acknowledged_by == staff_user


def test_an_alerts_acknowledgement_is_not_typed_by_hand_in_the_admin(
    staff_client: Client,
) -> None:
    alert = AlertFactory.create()
    page = staff_client.get(f"/admin/budgets/alert/{alert.pk}/change/")
    assert "acknowledged_at" not in page.context["adminform"].form.fields


def test_the_admins_new_campaign_page_names_each_budget_with_its_brand(
    staff_client: Client,
) -> None:
    BudgetFactory.create(brand=BrandFactory.create(name="Northwind"), name="Always-on")
    BudgetFactory.create(brand=BrandFactory.create(name="Fjord"), name="Always-on")
    page = staff_client.get("/admin/campaigns/campaign/add/").content.decode()
    assert "Northwind · Always-on" in page
    assert "Fjord · Always-on" in page
