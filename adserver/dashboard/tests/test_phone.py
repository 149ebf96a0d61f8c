"""Every dashboard page on a phone (390 x 844, Chromium): the page never
scrolls sideways (wide tables scroll inside their card), and the header
folds its menu behind one button. Screenshots go to artifacts/browser/phone/.
"""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from adserver.dashboard.tests.test_browser import _agency, _log_in, browser
from budgets.models import Alert, Brand, Budget
from budgets.periods import local_date
from budgets.tests.factories import AlertFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory, CampaignStatusChangeFactory
from spend.models import SpendEvent
from spend.tests.factories import SpendEventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["browser"]  # the module's Chromium, shared with the desktop tests

PHONE: ViewportSize = {"width": 390, "height": 844}
SHOTS = Path(settings.BASE_DIR) / "artifacts" / "browser" / "phone"


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    # Not `is_mobile`: a mobile viewport zooms out to fit what overflows, and
    # innerWidth grows with it, which would hide the very overflow measured.
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = context.new_page()
    yield page
    context.close()


def _long_rows(brand: Brand) -> None:
    """Rows whose names and figures are as wide as real ones get."""
    campaign = CampaignFactory.create(
        brand=brand, name="Performance Max - spring catalogue - all regions (EN, FR, DE)"
    )
    today = local_date(dt.datetime.now(dt.UTC), brand.timezone)
    SpendEventFactory.create(campaign=campaign, amount=Decimal("123456.789012"))
    AlertFactory.create(brand=brand, period_start=today)
    CampaignStatusChangeFactory.create(campaign=campaign, note="Paused for the client's review")


def _pages(brand: Brand) -> list[tuple[str, str]]:
    budget = Budget.objects.filter(brand=brand).first()
    campaign = Campaign.objects.filter(brand=brand).order_by("id").first()
    event = SpendEvent.objects.filter(brand=brand).first()
    alert = Alert.objects.filter(brand=brand).first()
    change = CampaignStatusChange.objects.filter(campaign__brand=brand).first()
    assert budget is not None
    assert campaign is not None
    assert event is not None
    assert alert is not None
    assert change is not None
    return [
        ("overview", "/"),
        ("brands", "/brands/"),
        ("brand", brand.get_absolute_url()),
        ("budgets", "/budgets/"),
        ("budget", budget.get_absolute_url()),
        ("campaigns", "/campaigns/"),
        ("campaign", campaign.get_absolute_url()),
        ("spend", "/spend/"),
        ("spend-event", event.get_absolute_url()),
        ("alerts", "/alerts/"),
        ("alert", alert.get_absolute_url()),
        ("history", "/history/"),
        ("status-change", change.get_absolute_url()),
        ("not-found", "/brands/999999/"),
    ]


def _page_scrolls_sideways(page: Page) -> int:
    """How many CSS pixels the page is wider than the screen (0: none)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_every_page_fits_a_phone_without_sideways_scrolling(
    phone: Page, live_server: LiveServer
) -> None:
    brand, _ = _agency()
    _long_rows(brand)
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.goto(live_server.url + "/login/")
    phone.screenshot(path=str(SHOTS / "login.png"), full_page=True)
    assert _page_scrolls_sideways(phone) <= 0, "login"
    _log_in(phone, live_server, "phone-manager")

    for name, path in _pages(brand):
        phone.goto(live_server.url + path)
        phone.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        assert _page_scrolls_sideways(phone) <= 0, name
        # The header is one line: the menu is folded.
        header = phone.locator("header.topbar").bounding_box()
        assert header is not None
        assert header["height"] < 80, (name, header)
        expect(phone.locator("header nav")).to_be_hidden()


def test_the_folded_menu_opens_and_leads_to_every_list(
    phone: Page, live_server: LiveServer
) -> None:
    _agency()
    _log_in(phone, live_server, "phone-menu")

    phone.click("label.menu-button")
    expect(phone.locator("header nav")).to_be_visible()
    phone.screenshot(path=str(SHOTS / "menu-open.png"))
    phone.locator("header nav").get_by_role("link", name="Campaigns").click()

    expect(phone.locator("h1")).to_have_text("Campaigns")
    assert _page_scrolls_sideways(phone) <= 0
    # The wide table scrolls inside itself instead of the page.
    table = phone.locator("table.campaigns")
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")
    assert table.evaluate("t => getComputedStyle(t).overflowX") == "auto"


def test_the_desktop_header_keeps_its_menu_open(browser: Browser, live_server: LiveServer) -> None:
    _agency()
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    _log_in(page, live_server, "desk-manager")

    expect(page.locator("header nav")).to_be_visible()
    expect(page.locator("label.menu-button")).to_be_hidden()
    context.close()
