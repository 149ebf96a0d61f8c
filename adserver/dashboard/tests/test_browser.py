"""The dashboard in a real browser: headless Chromium (Debian's) driven by Playwright.

Log in, follow the overview to a brand and one of its campaigns, filter a
list, and check that what the pages show is what the database holds; no
console errors anywhere. A viewer of one brand sees that brand only, and only
its manager may pause its campaigns. Screenshots go to artifacts/browser/.
"""

import datetime as dt
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from budgets.models import Alert, Brand, Budget, Period, Role
from budgets.periods import local_date
from budgets.services import membership_set
from budgets.tests.factories import AlertFactory, BrandFactory, BudgetFactory
from campaigns.models import Campaign, CampaignStatusChange, days_to_mask
from campaigns.services import campaign_pause
from campaigns.tests.factories import (
    CampaignFactory,
    CampaignStatusChangeFactory,
    DaypartFactory,
)
from spend.models import BrandSpend, SpendEvent
from spend.tests.factories import BrandSpendFactory, CampaignSpendFactory, SpendEventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "browser"
PASSWORD = "a-long-test-password"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # the tests make between browser steps are ordinary blocking calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _chromium()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def _chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    return []


@pytest.fixture
def csp_violations() -> list[str]:
    return []


# Every page reports what its Content-Security-Policy blocked, whatever the console says.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.reportViolation(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});
"""


@pytest.fixture
def page(browser: Browser, console_errors: list[str], csp_violations: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.expose_function("reportViolation", lambda report: csp_violations.append(report))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    yield page
    page.wait_for_timeout(100)  # a violation's report is delivered asynchronously
    context.close()
    assert csp_violations == [], "the Content-Security-Policy blocked something"
    assert not [m for m in console_errors if "Content Security Policy" in m], console_errors


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(Decimal('0.01')):,.2f} {currency}"


def _agency() -> tuple[Brand, Campaign]:
    brand = BrandFactory.create(
        name="Northwind Coffee",
        timezone="America/New_York",
        daily_budget=Decimal("500.00"),
        monthly_budget=Decimal("12000.00"),
    )
    today = local_date(dt.datetime.now(dt.UTC), brand.timezone)
    budget = BudgetFactory.create(brand=brand, name="Always-on", daily_limit=Decimal("200"))
    evenings = CampaignFactory.create(brand=brand, budget=budget, name="Social - evenings")
    DaypartFactory.create(
        campaign=evenings,
        days=days_to_mask(["fri", "sat"]),
        start_time=dt.time(22),
        end_time=dt.time(2),
    )
    CampaignFactory.create(brand=brand, budget=budget, name="Search - brand terms")
    paused = CampaignFactory.create(brand=brand, name="Display - paused by ops")
    campaign_pause(campaign_id=paused.pk)
    for days_ago, amount in [(0, "412.345678"), (1, "380"), (2, "505.5"), (12, "120")]:
        BrandSpendFactory.create(
            brand=brand,
            period=Period.DAY,
            period_start=today - dt.timedelta(days=days_ago),
            amount=Decimal(amount),
        )
    BrandSpendFactory.create(
        brand=brand, period=Period.MONTH, period_start=today.replace(day=1), amount=Decimal("4321")
    )
    CampaignSpendFactory.create(campaign=evenings, period_start=today, amount=Decimal("99.5"))
    other = BrandFactory.create(name="Fjord Outdoor", timezone="Europe/Oslo", currency="NOK")
    CampaignFactory.create(brand=other, name="Winter gear")
    CampaignFactory.create(brand=other, name="Summer gear", enabled=False)
    return brand, evenings


def _log_in(
    page: Page,
    live_server: LiveServer,
    username: str = "manager",
    *,
    role: str = Role.MANAGER,
    brands: list[Brand] | None = None,
) -> User:
    """Log in as a new user with `role` on `brands` (every brand by default)."""
    user = User.objects.create_user(username, password=PASSWORD)
    for brand in Brand.objects.all() if brands is None else brands:
        membership_set(brand=brand, user=user, role=role)
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    _shot(page, f"01-login-{username}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(live_server.url + "/")
    return user


def _figure(page: Page, name: str) -> str:
    return page.locator(f"#figure-{name} .value").inner_text()


def test_account_manager_follows_the_overview_to_a_brand_and_a_campaign(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    brand, evenings = _agency()
    _log_in(page, live_server)

    # The overview's figures are the database's.
    assert _figure(page, "brands") == str(Brand.objects.count())
    assert _figure(page, "active") == str(Campaign.objects.filter(status="active").count())
    assert _figure(page, "paused") == str(Campaign.objects.filter(status="paused").count())
    usd = page.locator('#spend-by-currency tr[data-currency="USD"]')
    today_total = BrandSpend.objects.get(
        brand=brand,
        period=Period.DAY,
        period_start=local_date(dt.datetime.now(dt.UTC), brand.timezone),
    ).amount
    expect(usd).to_contain_text(_money(today_total, "USD") + " / 500.00 USD")
    _shot(page, "02-overview")

    # Overview -> brands -> the brand.
    page.click("#figure-brands")
    expect(page).to_have_url(live_server.url + "/brands/")
    row = page.locator(f'#brands tr[data-id="{brand.pk}"]')
    expect(row.locator(".daily")).to_contain_text("82%")
    expect(row.locator(".monthly")).to_contain_text(_money(Decimal("4321"), "USD"))
    _shot(page, "03-brands")
    row.get_by_role("link", name=brand.name).click()
    expect(page.locator("h1")).to_have_text(brand.name)
    expect(page.locator("#brand-daily")).to_contain_text("412.35 USD / 500.00 USD")
    expect(page.locator("#brand-daily")).to_contain_text("Remaining today: 87.65 USD")
    expect(page.locator(".meta")).to_contain_text("Times in America/New_York")
    assert page.locator("svg.chart rect[data-day]").count() == 30
    _shot(page, "04-brand")

    # The brand -> one of its campaigns, with its week drawn.
    page.locator("table.campaigns").get_by_role("link", name=evenings.name).click()
    expect(page.locator("h1")).to_contain_text(evenings.name)
    expect(page.locator("#serving-heading .badge")).to_have_text("Active")
    expect(page.locator("#campaign-spend .daily")).to_have_text("99.50 USD")
    assert page.locator('rect.serve[data-day="Sat"]').count() == 2  # Fri's night + Sat 22:00
    assert page.locator('rect.serve[data-day="Mon"]').count() == 0
    _shot(page, "05-campaign")

    # Pause it from its page, once confirmed: the database records the person's pause.
    page.click("#pause")
    page.click("#confirm-pause")
    expect(page.locator(".messages")).to_contain_text("is paused until someone resumes it")
    evenings.refresh_from_db()
    assert (evenings.enabled, evenings.pause_reason) == (False, "manual")

    assert console_errors == []


def test_filtering_campaigns_shows_exactly_the_matching_rows(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    _agency()
    _log_in(page, live_server)

    page.goto(live_server.url + "/campaigns/")
    page.select_option("#id_status", "paused")
    page.click(".filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"status=paused"))

    shown = sorted(
        int(pk)
        for pk in page.locator("table.campaigns tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.id)"
        )
    )
    expected = sorted(Campaign.objects.filter(status="paused").values_list("id", flat=True))
    assert shown == expected
    assert set(
        page.locator("table.campaigns tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.status)"
        )
    ) == {"paused"}
    _shot(page, "06-campaigns-paused")

    page.goto(live_server.url + "/campaigns/?status=sleeping")
    expect(page.locator(".errorlist")).to_contain_text("status")
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]


def test_figures_refresh_without_reloading_the_page(
    page: Page, live_server: LiveServer, console_errors: list[str], settings: Settings
) -> None:
    settings.DASHBOARD_REFRESH_SECONDS = 1
    brand, _ = _agency()
    _log_in(page, live_server)
    page.evaluate("window.loadedOnce = true")
    expect(page.locator("#figure-campaigns .value")).to_have_text("5")

    CampaignFactory.create(brand=brand, name="Video - launch")

    expect(page.locator("#figure-campaigns .value")).to_have_text("6", timeout=5000)
    assert page.evaluate("window.loadedOnce") is True  # the same document: no reload
    assert console_errors == []


def _shown_ids(page: Page, rows: str) -> set[int]:
    ids = page.locator(rows).evaluate_all("rows => rows.map(r => r.dataset.id)")
    return {int(pk) for pk in ids}


def _logs_of_both_brands(brand: Brand, other: Brand) -> None:
    """A spend event, an alert and a status change on each brand."""
    for owner in (brand, other):
        campaign = Campaign.objects.filter(brand=owner).order_by("id").first()
        assert campaign is not None
        SpendEventFactory.create(campaign=campaign)
        AlertFactory.create(
            brand=owner, period_start=local_date(dt.datetime.now(dt.UTC), owner.timezone)
        )
        CampaignStatusChangeFactory.create(campaign=campaign)


def test_a_viewer_sees_only_their_brand_and_may_not_pause(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    brand, evenings = _agency()
    other = Brand.objects.get(name="Fjord Outdoor")
    _logs_of_both_brands(brand, other)
    _log_in(page, live_server, "brand-viewer", role=Role.VIEWER, brands=[brand])

    assert _figure(page, "brands") == "1"
    assert _figure(page, "campaigns") == str(Campaign.objects.filter(brand=brand).count())
    expect(page.locator("main")).not_to_contain_text("Fjord Outdoor")
    _shot(page, "07-viewer-overview")

    # Every list: exactly the brand's rows, nothing of the other brand.
    lists = [
        ("/brands/", "#brands tbody tr[data-id]", {brand.pk}),
        (
            "/budgets/",
            "table.budgets tbody tr[data-id]",
            set(Budget.objects.filter(brand=brand).values_list("id", flat=True)),
        ),
        (
            "/campaigns/",
            "table.campaigns tbody tr[data-id]",
            set(Campaign.objects.filter(brand=brand).values_list("id", flat=True)),
        ),
        (
            "/spend/",
            "#spend tbody tr[data-id]",
            set(SpendEvent.objects.filter(brand=brand).values_list("id", flat=True)),
        ),
        (
            "/alerts/",
            "table.alerts tbody tr[data-id]",
            set(Alert.objects.filter(brand=brand).values_list("id", flat=True)),
        ),
        (
            "/history/",
            "table.history tbody tr[data-id]",
            set(
                CampaignStatusChange.objects.filter(campaign__brand=brand).values_list(
                    "id", flat=True
                )
            ),
        ),
    ]
    for path, rows, expected in lists:
        page.goto(live_server.url + path)
        assert expected, path  # the brand has rows of every kind
        assert _shown_ids(page, rows) == expected, path
        expect(page.locator("main")).not_to_contain_text("Fjord Outdoor")
        expect(page.locator("main")).not_to_contain_text("Winter gear")
    _shot(page, "08-viewer-campaigns")

    # The other brand's page is the same "not found" as a page that does not exist.
    page.goto(live_server.url + other.get_absolute_url())
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("main")).not_to_contain_text("Fjord Outdoor")
    _shot(page, "09-viewer-other-brand")

    # Their brand's campaign: no Pause button.
    page.goto(live_server.url + evenings.get_absolute_url())
    expect(page.locator("h1")).to_contain_text(evenings.name)
    expect(page.locator("#pause")).to_have_count(0)
    expect(page.locator("#resume")).to_have_count(0)
    _shot(page, "10-viewer-campaign")

    assert console_errors == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]


def test_the_brands_manager_pauses_its_campaign(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    brand, evenings = _agency()
    _log_in(page, live_server, "brand-manager", brands=[brand])

    page.goto(live_server.url + evenings.get_absolute_url())
    page.click("#pause")
    page.click("#confirm-pause")

    expect(page.locator(".messages")).to_contain_text("is paused until someone resumes it")
    expect(page.locator("#resume")).to_have_count(1)
    evenings.refresh_from_db()
    assert (evenings.enabled, evenings.pause_reason) == (False, "manual")
    change = CampaignStatusChange.objects.filter(campaign=evenings).latest("id")
    assert change.user is not None
    assert change.user.get_username() == "brand-manager"
    _shot(page, "11-manager-paused")
    assert console_errors == []


def test_the_admin_works_under_the_content_security_policy(
    page: Page, live_server: LiveServer, console_errors: list[str], csp_violations: list[str]
) -> None:
    brand, evenings = _agency()
    User.objects.create_superuser("agency", "agency@example.com", PASSWORD)
    page.goto(live_server.url + "/admin/")
    page.fill("#id_username", "agency")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(live_server.url + "/admin/campaigns/campaign/")
    expect(page.locator("#result_list")).to_contain_text(evenings.name)
    page.goto(live_server.url + f"/admin/campaigns/campaign/{evenings.pk}/change/")
    expect(page.locator("#campaign_form")).to_be_visible()
    page.goto(live_server.url + f"/admin/budgets/brand/{brand.pk}/change/")
    expect(page.locator("#brand_form")).to_be_visible()
    _shot(page, "12-admin-brand")
    assert csp_violations == []
    # The admin's pages name no icon: the browser asks for /favicon.ico.
    assert [m for m in console_errors if "(Not Found)" not in m] == []
    console_errors.clear()

    # The policy holds, and is reported here: an inline script is blocked.
    with pytest.raises(PlaywrightError):
        page.add_script_tag(content="window.injected = true")
    page.wait_for_timeout(200)
    assert page.evaluate("window.injected === undefined")
    assert [v.split()[0] for v in csp_violations] == ["script-src-elem"]
    csp_violations.clear()
    console_errors.clear()


def test_swagger_ui_works_under_the_content_security_policy(
    page: Page, live_server: LiveServer, console_errors: list[str], csp_violations: list[str]
) -> None:
    _agency()
    _log_in(page, live_server, "docs-reader")
    page.goto(live_server.url + "/api/docs/")
    expect(page.locator(".swagger-ui .opblock-tag").first).to_be_visible(timeout=15000)
    expect(page.locator(".swagger-ui")).to_contain_text("/api/spend/batch/")
    page.locator(".opblock-summary-path", has_text="/api/status/").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    _shot(page, "13-swagger-ui")
    assert csp_violations == []
    assert console_errors == []


def _add_an_overnight_daypart(page: Page, campaign: Campaign) -> None:
    """From the campaign's page: Friday and Saturday nights, shown as overnight."""
    page.click("#add-daypart")
    page.check("input[name=days][value=fri]")
    page.check("input[name=days][value=sat]")
    page.fill("#id_start_time", "22:00")
    page.fill("#id_end_time", "06:00")
    expect(page.locator("#window-preview")).to_have_text("22:00 → 06:00 next day")
    page.click("#save")
    expect(page.locator("#dayparts .window")).to_have_text("22:00 → 06:00 next day")
    daypart = campaign.dayparts.get()
    assert (daypart.day_names, daypart.start_time, daypart.end_time) == (
        ["fri", "sat"],
        dt.time(22),
        dt.time(6),
    )
    _shot(page, "13-campaign-overnight")


def test_a_manager_sets_up_a_campaign_pauses_it_with_a_note_and_handles_alerts(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    brand, _ = _agency()
    today = local_date(dt.datetime.now(dt.UTC), brand.timezone)
    alerts = [
        AlertFactory.create(brand=brand, threshold=threshold, period_start=today)
        for threshold in (50, 80)
    ]
    user = _log_in(page, live_server, "brand-manager", brands=[brand])

    # A new campaign from the brand's page, on one of the brand's shared budgets.
    page.goto(live_server.url + brand.get_absolute_url())
    page.click("#add-campaign")
    expect(page.locator("h1")).to_have_text(f"New campaign of {brand.name}")
    page.fill("#id_name", "Night owls")
    page.select_option("#id_budget", label="Always-on")
    page.fill("#id_starts_on", (today + dt.timedelta(days=10)).isoformat())
    page.fill("#id_ends_on", today.isoformat())
    page.click("#save")

    # The end date before the start: the error sits beside the end date.
    expect(page.locator("#field-ends_on .errorlist")).to_have_text(
        "The flight cannot end before it starts."
    )
    expect(page.locator("#field-starts_on .errorlist")).to_have_count(0)
    _shot(page, "12-campaign-form-error")
    assert not Campaign.objects.filter(name="Night owls").exists()
    page.fill("#id_ends_on", (today + dt.timedelta(days=40)).isoformat())
    page.click("#save")
    expect(page.locator("h1")).to_contain_text("Night owls")
    campaign = Campaign.objects.get(name="Night owls")
    assert campaign.budget is not None
    assert (campaign.brand, campaign.budget.name) == (brand, "Always-on")

    _add_an_overnight_daypart(page, campaign)

    # Pause, confirmed, with a note: the history shows it; the badge reads once.
    page.click("#pause")
    page.fill("#id_note", "Client holds the launch until the new creative")
    _shot(page, "14-pause-confirm")
    page.click("#confirm-pause")
    expect(page.locator("#serving-heading .badge")).to_have_text("Paused · manual")
    expect(page.locator("table.history tbody tr").first).to_contain_text(
        "Client holds the launch until the new creative"
    )
    change = CampaignStatusChange.objects.filter(campaign=campaign).latest("id")
    assert (change.note, change.user) == ("Client holds the launch until the new creative", user)
    _shot(page, "15-paused-with-note")

    # Two alerts acknowledged at once, with who and when.
    page.goto(live_server.url + "/alerts/")
    for alert in alerts:
        page.check(f"#ack-{alert.pk}")
    page.click("#acknowledge")
    expect(page.locator(".messages")).to_contain_text("2 alerts acknowledged.")
    for alert in alerts:
        expect(page.locator(f'table.alerts tr[data-id="{alert.pk}"]')).to_contain_text(
            "by brand-manager"
        )
        alert.refresh_from_db()
        assert alert.acknowledged_at is not None
        assert alert.acknowledged_by == user
    _shot(page, "16-alerts-acknowledged")

    assert console_errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]


def test_an_agency_admin_adds_a_brand_with_a_searched_zone_and_a_lower_case_currency(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    User.objects.create_superuser("agency", password=PASSWORD)
    page.goto(live_server.url + "/brands/")
    page.fill("#id_username", "agency")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    page.click("#add-brand")
    options = page.locator("#id_timezone-options option")
    assert options.count() > 300
    page.fill("#id_name", "Le Petit Café")
    page.fill("#id_timezone", "europe/paris")
    page.fill("#id_currency", "eur")
    page.fill("#id_daily_budget", "5000")
    page.fill("#id_monthly_budget", "3000")
    page.click("#save")
    expect(page.locator("#field-daily_budget .errorlist")).to_have_text(
        "The daily budget cannot be above the monthly budget (3,000.00)."
    )
    _shot(page, "17-brand-form-error")
    assert not Brand.objects.filter(name="Le Petit Café").exists()

    page.fill("#id_monthly_budget", "90000")
    page.click("#save")
    expect(page.locator("h1")).to_have_text("Le Petit Café")
    expect(page.locator(".meta")).to_contain_text("Times in Europe/Paris · money in EUR")
    brand = Brand.objects.get(name="Le Petit Café")
    assert (brand.timezone, brand.currency, brand.daily_budget) == (
        "Europe/Paris",
        "EUR",
        Decimal("5000"),
    )
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]


def test_the_brand_pages_pacing_is_the_apis(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    # 17:00 in Paris on 10 January 2027 (frozen, so that both read one instant).
    with time_machine.travel(dt.datetime(2027, 1, 10, 16, 0, tzinfo=dt.UTC), tick=False):
        brand = BrandFactory.create(
            name="Paris Pacing",
            timezone="Europe/Paris",
            daily_budget=Decimal("400.00"),
            monthly_budget=Decimal("9300.00"),
        )
        campaign = CampaignFactory.create(brand=brand, name="Always on")
        for day in range(1, 10):
            BrandSpendFactory.create(
                brand=brand, period_start=dt.date(2027, 1, day), amount=Decimal("310")
            )
        BrandSpendFactory.create(
            brand=brand, period_start=dt.date(2027, 1, 10), amount=Decimal("180")
        )
        BrandSpendFactory.create(
            brand=brand,
            period=Period.MONTH,
            period_start=dt.date(2027, 1, 1),
            amount=Decimal("2970"),
        )
        for minutes_ago, amount in [(50, "25.5"), (20, "14.25"), (5, "8")]:
            SpendEventFactory.create(
                campaign=campaign,
                amount=Decimal(amount),
                occurred_at=dt.datetime(2027, 1, 10, 16, 0, tzinfo=dt.UTC)
                - dt.timedelta(minutes=minutes_ago),
            )
        _log_in(page, live_server, brands=[brand])

        response = page.request.get(f"{live_server.url}/api/brands/{brand.pk}/")
        assert response.ok
        pacing = response.json()["pacing"]
        page.goto(live_server.url + brand.get_absolute_url())
        shown = {
            key: page.locator(f"#pacing-{name}").get_attribute("data-value")
            for key, name in [
                ("month_expected_to_date", "expected"),
                ("month_projected", "projected"),
                ("month_cap_reached_on", "cap-reached-on"),
                ("day_cap_reached_at", "day-cap-reached-at"),
                ("recommended_daily_budget", "recommended"),
            ]
        }
        card = page.locator("#brand-pacing")
        shown["status"] = card.locator("[data-status]").get_attribute("data-status")
        shown["month_pacing_percent"] = card.locator("[data-percent]").get_attribute("data-percent")
        _shot(page, "09-brand-pacing")
        page.goto(live_server.url + "/brands/?pacing=" + pacing["status"])
        row = page.locator(f'#brands tr[data-id="{brand.pk}"]')
        listed = row.locator("[data-projected]").get_attribute("data-projected")
        _shot(page, "10-brands-by-pacing")

    assert shown == {**pacing, "month_cap_reached_on": pacing["month_cap_reached_on"] or ""} | {
        "day_cap_reached_at": pacing["day_cap_reached_at"] or ""
    }
    assert pacing["day_cap_reached_at"] is not None  # 47.75 in the last hour: 22:49
    assert listed == pacing["month_projected"]
    assert console_errors == []
