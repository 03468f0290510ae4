"""Browser stories: the collision indicator with two agents, and the agent pages at 360 px in ru and it."""
from __future__ import annotations

import pytest

from support.models import CaseKind, CaseStatus, Role
from staff import sign_in_page

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config):
    # beats every second and forgotten after three, so the story does not wait 45 s
    return {**app_config, "PRESENCE_POLL_SECONDS": 1, "PRESENCE_TTL_SECONDS": 3}


def test_two_agents_see_each_other_on_a_case_until_one_leaves(live_server, browser, make_agent, make_case):
    case, _ = make_case(status=CaseStatus.in_review)
    anna, bruno = make_agent(Role.agent, name="Anna First"), make_agent(Role.supervisor, name="Bruno Second")
    first, second = browser.new_context(), browser.new_context()
    try:
        a, b = first.new_page(), second.new_page()
        for page in (a, b):
            page.set_default_timeout(15_000)
        sign_in_page(a, live_server, anna.email, lands_on="/queue")
        sign_in_page(b, live_server, bruno.email, lands_on="/queue")
        a.goto(f"{live_server}/cases/{case.number}")
        b.goto(f"{live_server}/cases/{case.number}")
        b.locator("#presence").get_by_text("Anna First is viewing this case").wait_for()
        a.locator("#presence").get_by_text("Bruno Second is viewing this case").wait_for()
        b.locator("#message-body").fill("Thank you, we are checking the receipt")  # typing shows up for the other
        b.locator("#message-body").press("End")
        a.locator("#presence").get_by_text("Bruno Second is writing a reply").wait_for()

        a.close()  # the page says goodbye as it closes
        b.locator("#presence").get_by_text("Anna First").wait_for(state="detached")
        assert b.locator("#presence").is_hidden()

        # a tab that dies without a goodbye (network gone) expires after the TTL
        a = first.new_page()
        a.goto(f"{live_server}/cases/{case.number}")
        b.locator("#presence").get_by_text("Anna First is viewing this case").wait_for()
        first.set_offline(True)
        b.locator("#presence").get_by_text("Anna First").wait_for(state="detached")
    finally:
        first.close()
        second.close()


def overflows(page) -> int:
    """How far the page scrolls sideways (0: it fits)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


WIDEST = """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)
  .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


OVERLAPS = """() => [...document.querySelectorAll('svg g.chart-row')].filter(row => {
  const label = row.querySelector('text.chart-label').getBoundingClientRect();
  const bar = row.querySelector('rect').getBoundingClientRect();
  return bar.width > 0 && label.bottom > bar.top && label.top < bar.bottom && label.right > bar.left && label.left < bar.right;
}).length"""


@pytest.mark.parametrize("language", ["ru", "it"])
def test_queue_case_and_dashboard_fit_360_px_and_chart_labels_clear_their_bars(
        live_server, browser, make_agent, make_case, language):
    long_name = "Александра Константиновна Преображенская-Вознесенская"
    case, _ = make_case(kind=CaseKind.lost_credentials, status=CaseStatus.in_review, claimant_name=long_name,
                        model="Xiaomi Redmi Note 13 Pro+ 5G Special Edition", language=language)
    for status in (CaseStatus.new, CaseStatus.waiting_on_claimant, CaseStatus.rejected, CaseStatus.closed):
        make_case(kind=CaseKind.device_unbind, status=status)
    supervisor = make_agent(Role.supervisor, name="Supervisora Lunghissima Dalla Valle")
    context = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in_page(page, live_server, supervisor.email, lands_on="/queue")
        for path in ("/queue", f"/cases/{case.number}", "/dashboard", "/approvals"):
            page.goto(f"{live_server}{path}?lang={language}")
            assert page.locator("html").get_attribute("lang") == language
            assert overflows(page) <= 0, (path, overflows(page), page.evaluate(WIDEST))
        page.goto(f"{live_server}/dashboard?lang={language}")
        assert page.locator("svg g.chart-row").count() >= 8
        assert page.evaluate(OVERLAPS) == 0
        page.set_viewport_size({"width": 1366, "height": 800})
        assert page.evaluate(OVERLAPS) == 0
        # the wide queue table scrolls inside its own box, not the page
        page.set_viewport_size({"width": 360, "height": 740})
        page.goto(f"{live_server}/queue?lang={language}")
        assert page.evaluate("document.querySelector('.table-wrap').scrollWidth") > 360
        assert overflows(page) <= 0
    finally:
        context.close()
