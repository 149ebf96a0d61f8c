"""The dashboard's forms: brands, budgets, campaigns and dayparts, each rule and refusal.

Every error sits beside its field and leaves the data as it was; a viewer's
POST is a 403 and a brand the person may not see a 404, with nothing written.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from adserver.dashboard.tests.conftest import MakeClient, make_agency_admin, make_member
from budgets.models import Brand, Budget, SettingChange
from budgets.tests.factories import BrandFactory, BudgetFactory
from campaigns.models import Campaign, Daypart, days_to_mask
from campaigns.tests.factories import CampaignFactory, DaypartFactory
from spend.services import spend_record

pytestmark = pytest.mark.django_db


def _field_errors(response: object, field: str) -> list[str]:
    form = response.context["form"]  # type: ignore[attr-defined]
    return list(form.errors.get(field, []))


@pytest.fixture
def brand() -> Brand:
    return BrandFactory.create(
        name="Northwind",
        timezone="America/New_York",
        daily_budget=Decimal("500"),
        monthly_budget=Decimal("12000"),
    )


@pytest.fixture
def manager(brand: Brand) -> User:
    return make_member("account-manager", manages=[brand])


@pytest.fixture
def manager_client(client_for: MakeClient, manager: User) -> Client:
    return client_for(manager)


# ---------------------------------------------------------------- campaigns


def test_a_manager_creates_a_campaign_with_a_budget_of_the_brand(
    manager_client: Client, brand: Brand, manager: User
) -> None:
    budget = BudgetFactory.create(brand=brand, name="Always-on")
    response = manager_client.post(
        f"/brands/{brand.pk}/campaigns/new/",
        {
            "name": "Night owls",
            "budget": budget.pk,
            "starts_on": "2026-05-01",
            "ends_on": "2026-05-31",
        },
    )
    campaign = Campaign.objects.get(name="Night owls")
    assert response.status_code == 302
    assert response["Location"] == campaign.get_absolute_url()
    assert (campaign.brand, campaign.budget) == (brand, budget)
    assert (campaign.starts_on, campaign.ends_on) == (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    # Written by the service: the audit trail names the person.
    assert SettingChange.objects.filter(object_type="campaign", actor=manager.username).exists()


def test_the_budget_choices_are_the_campaigns_brands_only(
    manager_client: Client, brand: Brand
) -> None:
    own = BudgetFactory.create(brand=brand, name="Always-on")
    other_brand = BrandFactory.create(name="Fjord")
    foreign = BudgetFactory.create(brand=other_brand, name="Elsewhere")
    make_member("x", manages=[other_brand])

    page = manager_client.get(f"/brands/{brand.pk}/campaigns/new/")
    assert list(page.context["form"].fields["budget"].queryset) == [own]
    assert "Elsewhere" not in page.content.decode()

    response = manager_client.post(
        f"/brands/{brand.pk}/campaigns/new/", {"name": "Sneaky", "budget": foreign.pk}
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["budget"]
    assert not Campaign.objects.filter(name="Sneaky").exists()


def test_an_end_date_before_the_start_date_is_an_error_on_the_end_date(
    manager_client: Client, brand: Brand
) -> None:
    response = manager_client.post(
        f"/brands/{brand.pk}/campaigns/new/",
        {"name": "Backwards", "starts_on": "2026-05-10", "ends_on": "2026-05-01"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "ends_on": ["The flight cannot end before it starts."]
    }
    html = response.content.decode()
    # Beside its field, not above the form.
    assert 'id="field-ends_on"' in html
    assert html.index("The flight cannot end") > html.index('id="field-ends_on"')
    assert "campaign_flight_dates_ordered" not in html
    assert not Campaign.objects.exists()


def test_a_taken_name_is_an_error_on_the_name(manager_client: Client, brand: Brand) -> None:
    CampaignFactory.create(brand=brand, name="Evergreen")
    response = manager_client.post(f"/brands/{brand.pk}/campaigns/new/", {"name": "Evergreen"})
    assert response.status_code == 400
    assert _field_errors(response, "name") == ["This brand already has a campaign with this name."]
    assert Campaign.objects.count() == 1


def test_editing_a_campaign_changes_only_what_changed(manager_client: Client, brand: Brand) -> None:
    campaign = CampaignFactory.create(brand=brand, name="Evergreen")
    response = manager_client.post(
        f"/campaigns/{campaign.pk}/edit/", {"name": "Evergreen", "ends_on": "2026-12-31"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.ends_on == dt.date(2026, 12, 31)
    trail = SettingChange.objects.filter(object_type="campaign", object_id=campaign.pk)
    assert set(trail.values_list("field", flat=True)) == {"ends_on"}


# ---------------------------------------------------------------- budgets


def test_a_budget_limit_above_the_brands_cap_is_saved_with_a_visible_warning(
    manager_client: Client, brand: Brand
) -> None:
    response = manager_client.post(
        f"/brands/{brand.pk}/budgets/new/",
        {"name": "Generous", "daily_limit": "600", "monthly_limit": ""},
        follow=True,
    )
    budget = Budget.objects.get(name="Generous")
    assert budget.daily_limit == Decimal("600")
    html = response.content.decode()
    assert "The daily limit 600.00 USD is above Northwind&#x27;s daily budget" in html
    # and the budget's page keeps saying so
    assert 'id="limit-warnings"' in manager_client.get(budget.get_absolute_url()).content.decode()


def test_a_budgets_daily_limit_above_its_monthly_limit_is_refused_on_the_field(
    manager_client: Client, brand: Brand
) -> None:
    response = manager_client.post(
        f"/brands/{brand.pk}/budgets/new/",
        {"name": "Odd", "daily_limit": "60", "monthly_limit": "50"},
    )
    assert response.status_code == 400
    assert _field_errors(response, "daily_limit") == [
        "The daily limit cannot be above the monthly limit (50.00)."
    ]
    assert not Budget.objects.exists()


def test_a_budgets_name_taken_in_its_brand_is_an_error_on_the_name(
    manager_client: Client, brand: Brand
) -> None:
    budget = BudgetFactory.create(brand=brand, name="Always-on")
    BudgetFactory.create(brand=brand, name="Search")
    response = manager_client.post(
        f"/budgets/{budget.pk}/edit/", {"name": "Search", "daily_limit": "50"}
    )
    assert response.status_code == 400
    assert _field_errors(response, "name") == ["This brand already has a budget with this name."]
    budget.refresh_from_db()
    assert budget.name == "Always-on"


# ---------------------------------------------------------------- brands


def test_an_agency_admin_creates_a_brand_with_currency_upper_cased_and_a_listed_zone(
    client_for: MakeClient,
) -> None:
    client = client_for(make_agency_admin())
    page = client.get("/brands/new/")
    html = page.content.decode()
    assert '<datalist id="id_timezone-options">' in html
    assert '<option value="Europe/Paris">' in html

    response = client.post(
        "/brands/new/",
        {
            "name": "Le Café",
            "timezone": "europe/paris",
            "currency": "eur",
            "daily_budget": "100",
            "monthly_budget": "3000",
        },
    )
    assert response.status_code == 302
    brand = Brand.objects.get(name="Le Café")
    assert (brand.timezone, brand.currency) == ("Europe/Paris", "EUR")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "Choose a time zone from the list"),
        ({"currency": "euro"}, "currency", "at most 3 characters"),
        ({"currency": "e1r"}, "currency", "Use an ISO 4217 code"),
        ({"daily_budget": "4000"}, "daily_budget", "cannot be above the monthly budget"),
        ({"daily_budget": "0"}, "daily_budget", "greater than or equal to 0.01"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_a_brand_form_refuses_each_bad_value_on_its_field(
    client_for: MakeClient, changes: dict[str, str], field: str, message: str
) -> None:
    client = client_for(make_agency_admin())
    data = {
        "name": "Le Café",
        "timezone": "Europe/Paris",
        "currency": "EUR",
        "daily_budget": "100",
        "monthly_budget": "3000",
        **changes,
    }
    response = client.post("/brands/new/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert not Brand.objects.exists()


def test_a_manager_edits_the_brands_caps_but_may_not_add_brands(
    manager_client: Client, brand: Brand
) -> None:
    assert 'id="add-brand"' not in manager_client.get("/brands/").content.decode()
    assert manager_client.get("/brands/new/").status_code == 403
    refused = manager_client.post(
        "/brands/new/",
        {
            "name": "Mine",
            "timezone": "UTC",
            "currency": "USD",
            "daily_budget": "1",
            "monthly_budget": "2",
        },
    )
    assert refused.status_code == 403
    assert Brand.objects.count() == 1

    response = manager_client.post(
        f"/brands/{brand.pk}/edit/",
        {
            "name": brand.name,
            "timezone": brand.timezone,
            "currency": "usd",
            "daily_budget": "600",
            "monthly_budget": "12000",
        },
    )
    assert response.status_code == 302
    brand.refresh_from_db()
    assert (brand.daily_budget, brand.currency) == (Decimal("600"), "USD")


# ---------------------------------------------------------------- dayparts


def test_an_overnight_daypart_is_created_and_shown_as_such(
    manager_client: Client, brand: Brand
) -> None:
    campaign = CampaignFactory.create(brand=brand)
    response = manager_client.post(
        f"/campaigns/{campaign.pk}/dayparts/new/",
        {"days": ["fri", "sat"], "start_time": "22:00", "end_time": "06:00"},
        follow=True,
    )
    daypart = Daypart.objects.get(campaign=campaign)
    assert (daypart.days, daypart.start_time, daypart.end_time) == (
        days_to_mask(["fri", "sat"]),
        dt.time(22),
        dt.time(6),
    )
    assert "22:00 → 06:00 next day" in response.content.decode()


def test_a_daypart_without_weekdays_is_an_error_on_the_weekdays(
    manager_client: Client, brand: Brand
) -> None:
    campaign = CampaignFactory.create(brand=brand)
    response = manager_client.post(
        f"/campaigns/{campaign.pk}/dayparts/new/", {"start_time": "09:00", "end_time": "25:00"}
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"days", "end_time"}
    assert _field_errors(response, "days") == ["Choose at least one weekday."]
    assert not Daypart.objects.exists()


def test_a_daypart_is_edited_and_removed(manager_client: Client, brand: Brand) -> None:
    daypart = DaypartFactory.create(
        campaign=CampaignFactory.create(brand=brand), days=days_to_mask(["mon", "wed"])
    )
    page = manager_client.get(f"/dayparts/{daypart.pk}/edit/")
    assert page.context["form"]["days"].value() == ["mon", "wed"]
    assert '<output id="window-preview" for="id_start_time id_end_time">09:00 → 17:00</output>' in (
        page.content.decode()
    )
    response = manager_client.post(
        f"/dayparts/{daypart.pk}/edit/",
        {"days": ["sun"], "start_time": "10:00", "end_time": "12:00"},
    )
    assert response.status_code == 302
    daypart.refresh_from_db()
    assert (daypart.day_names, daypart.start_time) == (["sun"], dt.time(10))

    assert manager_client.post(f"/dayparts/{daypart.pk}/delete/").status_code == 302
    assert not Daypart.objects.exists()


# ---------------------------------------------------------------- refusals


def _form_urls(brand: Brand) -> list[str]:
    budget = BudgetFactory.create(brand=brand)
    campaign = CampaignFactory.create(brand=brand, budget=budget)
    daypart = DaypartFactory.create(campaign=campaign)
    return [
        f"/brands/{brand.pk}/edit/",
        f"/brands/{brand.pk}/budgets/new/",
        f"/budgets/{budget.pk}/edit/",
        f"/brands/{brand.pk}/campaigns/new/",
        f"/campaigns/{campaign.pk}/edit/",
        f"/campaigns/{campaign.pk}/dayparts/new/",
        f"/dayparts/{daypart.pk}/edit/",
        f"/dayparts/{daypart.pk}/delete/",
        f"/campaigns/{campaign.pk}/pause/",
    ]


VALID = {
    "name": "Changed",
    "timezone": "UTC",
    "currency": "USD",
    "daily_budget": "1",
    "monthly_budget": "2",
    "days": ["mon"],
    "start_time": "09:00",
    "end_time": "10:00",
    "note": "no",
}


def _snapshot() -> tuple[object, ...]:
    return (
        list(Brand.objects.values()),
        list(Budget.objects.values()),
        list(Campaign.objects.values()),
        list(Daypart.objects.values()),
        SettingChange.objects.count(),
    )


def test_a_viewer_is_refused_every_form_and_sees_no_buttons(
    client_for: MakeClient, brand: Brand
) -> None:
    urls = _form_urls(brand)
    viewer = client_for(make_member("brand-viewer", views=[brand]))
    before = _snapshot()
    for url in urls:
        assert viewer.get(url).status_code == 403, url
        assert viewer.post(url, VALID).status_code == 403, url
    assert _snapshot() == before

    campaign = Campaign.objects.get()
    pages = [brand.get_absolute_url(), campaign.get_absolute_url()]
    pages.append(campaign.budget.get_absolute_url())  # type: ignore[union-attr]
    for url in pages:
        html = viewer.get(url).content.decode()
        for button in ("edit-brand", "add-budget", "add-campaign", "edit-budget", "pause"):
            assert f'id="{button}"' not in html, (url, button)
        assert "/edit/" not in html, url
        assert "/dayparts/new/" not in html, url


def test_a_brand_the_person_may_not_see_is_not_found_on_every_form(
    client_for: MakeClient, brand: Brand
) -> None:
    urls = _form_urls(brand)
    stranger = client_for(make_member("stranger", manages=[BrandFactory.create()]))
    before = _snapshot()
    for url in urls:
        assert stranger.get(url).status_code == 404, url
        assert stranger.post(url, VALID).status_code == 404, url
    assert _snapshot() == before


def test_the_manager_sees_the_buttons(manager_client: Client, brand: Brand) -> None:
    html = manager_client.get(brand.get_absolute_url()).content.decode()
    for button in ("edit-brand", "add-budget", "add-campaign"):
        assert f'id="{button}"' in html


def test_the_time_zone_of_a_brand_with_spend_cannot_change_on_its_form(
    manager_client: Client, brand: Brand
) -> None:
    spend_record(campaign_id=CampaignFactory.create(brand=brand).pk, amount=Decimal("1"))
    page = manager_client.get(f"/brands/{brand.pk}/edit/")
    assert page.context["form"].fields["timezone"].disabled
    assert "Fixed: the brand&#x27;s spend is already counted" in page.content.decode()

    response = manager_client.post(
        f"/brands/{brand.pk}/edit/",
        {
            "name": brand.name,
            "timezone": "Asia/Tokyo",
            "currency": "USD",
            "daily_budget": "450",
            "monthly_budget": "12000",
        },
    )
    assert response.status_code == 302
    brand.refresh_from_db()
    assert (brand.timezone, brand.daily_budget) == ("America/New_York", Decimal("450"))


def test_a_manager_switches_the_brand_to_standard_delivery_on_its_form(
    manager_client: Client, brand: Brand
) -> None:
    page = manager_client.get(f"/brands/{brand.pk}/edit/").content.decode()
    assert '<option value="standard">' in page
    data = {
        "name": brand.name,
        "timezone": brand.timezone,
        "currency": "USD",
        "daily_budget": "500",
        "monthly_budget": "12000",
    }
    refused = manager_client.post(f"/brands/{brand.pk}/edit/", {**data, "delivery": "even"})
    assert refused.status_code == 400
    assert list(refused.context["form"].errors) == ["delivery"]

    response = manager_client.post(f"/brands/{brand.pk}/edit/", {**data, "delivery": "standard"})
    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.delivery == "standard"
    change = SettingChange.objects.get(brand=brand, field="delivery")
    assert (change.actor, change.via, change.after) == ("account-manager", "dashboard", "standard")
    # A post that leaves it out keeps it.
    assert manager_client.post(f"/brands/{brand.pk}/edit/", data).status_code == 302
    brand.refresh_from_db()
    assert brand.delivery == "standard"
    assert "standard delivery" in manager_client.get(brand.get_absolute_url()).content.decode()


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_form_pages_run_as_many_queries_whatever_the_rows(
    manager_client: Client, brand: Brand
) -> None:
    campaign = CampaignFactory.create(brand=brand, budget=BudgetFactory.create(brand=brand))
    daypart = DaypartFactory.create(campaign=campaign)
    urls = [
        f"/brands/{brand.pk}/edit/",
        f"/brands/{brand.pk}/campaigns/new/",
        f"/campaigns/{campaign.pk}/edit/",
        f"/dayparts/{daypart.pk}/edit/",
        f"/campaigns/{campaign.pk}/pause/",
    ]
    few = [_queries(manager_client, url) for url in urls]
    for _ in range(5):
        BudgetFactory.create(brand=brand)
        DaypartFactory.create(campaign=campaign)
    assert [_queries(manager_client, url) for url in urls] == few
