"""Reviewers work the queue in a real browser: filter, open, assign, decide."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from regen.models import ReviewItem
from tests.api.texts import VIOLENT
from tests.factories import ProjectFactory
from tests.helpers import client_for
from tests.pages.test_review_pages import SAFE_REWRITE, XSS, make_item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue(team):
    """A critical item made through the API, and a few others around it."""
    client_for(team["key"]).post(
        "/railscore/v1/safe-regenerate", {"content": VIOLENT}, format="json"
    )
    critical = ReviewItem.objects.get()
    account, other = team["account"], ProjectFactory(account=team["account"], name="Billing bot")
    make_item(
        account,
        project=other,
        content="Call me on 217-555-0199 for the refund.",
        reason="on_failure",
        issues=[("privacy", "A phone number is exposed", 11, 23)],
        age=timedelta(hours=5),
    )
    make_item(
        account,
        project=team["project"],
        content="Stop taking your insulin, you will feel better.",
        issues=[("safety", "Tells the reader to stop a treatment", 0, 26)],
        age=timedelta(hours=3),
    )
    make_item(
        account,
        project=other,
        content="Only hire people under 30.",
        state="approved",
        issues=[("fairness", "Age discrimination", 0, 26)],
        age=timedelta(days=2),
    )
    return critical


def test_a_reviewer_filters_the_queue_opens_an_item_and_decides_it(
    page, live_server, login, team, queue, console_errors, shot
):
    login("bob")
    page.goto(f"{live_server.url}/review/")
    expect(page.locator("table.queue tbody tr")).to_have_count(3)  # pending only by default
    expect(page.locator("tr.overdue")).to_have_count(1)
    # critical first, the oldest first: the overdue critical item heads the queue
    expect(page.locator("table.queue tbody tr").first).to_contain_text("Stop taking your insulin")
    shot("review-queue")

    page.select_option("#id_dimension", "safety")
    expect(page).to_have_url(re.compile(r"dimension=safety"))
    expect(page.locator("table.queue tbody tr")).to_have_count(2)
    page.select_option("#id_project", str(team["project"].id))
    expect(page.locator("table.queue tbody tr")).to_have_count(2)
    page.select_option("#id_age", "1h")
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    page.select_option("#id_age", "")

    page.click("text=Those immigrants are vermin")
    expect(page.locator(".chart .main-svg").first).to_be_visible()
    expect(page.locator("mark.span").first).to_have_attribute(
        "title", re.compile("less than human")
    )
    page.click("text=Assign to me")
    expect(page.locator("#decision-panel .assignee")).to_have_text("bob")
    shot("review-detail")

    page.fill("#id_reason", "Incites violence against a group and doxxes a person.")
    page.click("button[value=reject]")
    expect(page.locator("#decision-panel .badge")).to_have_text("Rejected")
    expect(page.locator("#decision-panel .why")).to_have_text(
        "Incites violence against a group and doxxes a person."
    )
    queue.refresh_from_db()
    assert queue.state == "rejected"
    assert queue.decided_by == team["bob"]
    assert console_errors == []


def test_a_rewrite_is_scored_and_shown(page, live_server, login, team, queue, console_errors):
    login("alice")
    page.goto(f"{live_server.url}/review/{queue.id}/")
    page.click("text=Rewrite it instead")
    page.fill("#id_content", "short")
    page.fill("#id_reason", "Rewritten safely.")
    page.click("button[value=rewrite]")
    expect(page.locator("#content-errors")).to_contain_text("between 10 and")
    page.fill("#id_content", SAFE_REWRITE)
    page.click("button[value=rewrite]")
    expect(page.locator("#decision-panel .content.rewritten")).to_have_text(SAFE_REWRITE)
    expect(page.locator("#decision-panel")).to_contain_text("score")
    assert console_errors == []


def test_a_viewer_reads_an_item_but_cannot_decide_it(
    page, live_server, login, team, queue, console_errors
):
    login("victor")
    page.goto(f"{live_server.url}/review/{queue.id}/")
    expect(page.locator(".chart .main-svg").first).to_be_visible()
    expect(page.locator("#decision-panel .read-only")).to_be_visible()
    expect(page.locator("form.decision")).to_have_count(0)
    expect(page.locator("form.assign")).to_have_count(0)
    assert console_errors == []


def test_user_text_shows_as_text_and_opens_no_dialog(
    page, live_server, login, team, console_errors
):
    item = make_item(
        team["account"],
        project=team["project"],
        content=XSS,
        issues=[("safety", "Script <b>tag</b>", 0, 25)],
    )
    login("bob")
    page.goto(f"{live_server.url}/review/")
    expect(page.locator("table.queue td.excerpt")).to_contain_text("<script>alert(1)</script>")
    page.goto(f"{live_server.url}/review/{item.id}/")
    expect(page.locator(".content.flagged")).to_have_text(XSS)
    expect(page.locator("mark.span")).to_have_text("<script>alert(1)</script>")
    page.fill("#id_reason", XSS)
    page.click("button[value=reject]")
    expect(page.locator("#decision-panel .why")).to_have_text(XSS)
    page.reload()
    expect(page.locator("#decision-panel .why")).to_have_text(XSS)
    assert page.dialogs == []
    assert console_errors == []


def test_approving_critical_content_asks_for_confirmation_first(
    page, live_server, login, team, queue, console_errors, shot
):
    login("bob")
    page.goto(f"{live_server.url}/review/{queue.id}/")
    expect(page.locator(".why")).to_contain_text("critical")
    page.fill("#id_reason", "Quoted in a news report about the attack.")
    page.click("button[value=approve]")
    expect(page.locator("#confirm-errors")).to_contain_text("confirm that it may be served")
    queue.refresh_from_db()
    assert queue.state == "pending"
    shot("review-confirm-critical")
    page.check("#id_confirm_critical")
    page.fill("#id_reason", "Quoted in a news report about the attack.")
    page.click("button[value=approve]")
    expect(page.locator("#decision-panel .badge")).to_have_text("Approved")
    assert console_errors == []


def test_an_expired_session_takes_the_reviewer_to_the_login_page(
    page, live_server, login, team, queue
):
    login("bob")
    page.goto(f"{live_server.url}/review/{queue.id}/")
    page.context.clear_cookies(name="sessionid")  # the session expired while the page was open
    page.fill("#id_reason", "Violent.")
    page.click("button[value=reject]")
    expect(page).to_have_url(re.compile(r"/login/\?next=/review/"))
    expect(page.locator("#decision-panel")).to_have_count(0)


def test_a_refused_htmx_request_says_so_instead_of_doing_nothing(
    page, live_server, login, team, queue
):
    login("bob")
    page.goto(f"{live_server.url}/review/{queue.id}/")
    page.evaluate("document.querySelector('form.decision [name=csrfmiddlewaretoken]').value = 'x'")
    page.context.add_cookies([{"name": "csrftoken", "value": "y" * 32, "url": live_server.url}])
    page.fill("#id_reason", "Violent.")
    page.click("button[value=reject]")
    expect(page.locator("#htmx-problem")).to_be_visible()
    expect(page.locator("#htmx-problem")).to_contain_text("refused")
    queue.refresh_from_db()
    assert queue.state == "pending"


def test_a_reviewer_works_the_queue_with_the_keyboard_only(
    page, live_server, login, team, console_errors, shot
):
    """Issue 12: j/Enter open the first item, a reason, r rejects, focus lands on the next
    item, Enter opens it; ten items in queue order (critical then oldest) without the mouse."""
    texts = [f"Item number {n} says something the scorer disliked." for n in range(10)]
    for n, text in enumerate(texts):
        make_item(
            team["account"], project=team["project"], content=text,
            age=timedelta(hours=20 - n),  # the first is the oldest
        )  # fmt: skip
    login("bob")
    page.goto(f"{live_server.url}/review/")
    page.keyboard.press("j")
    expect(page.locator("table.queue tbody tr").first).to_be_focused()
    page.keyboard.press("Enter")
    for n, text in enumerate(texts):
        expect(page.locator(".content.flagged")).to_have_text(text)
        page.keyboard.press("r")  # no reason yet: the reason field takes the focus
        expect(page.locator("#id_reason")).to_be_focused()
        page.keyboard.type(f"Rejected by keyboard, item {n}.")
        page.keyboard.press("Escape")
        page.keyboard.press("r")
        expect(page.locator("#decision-panel .badge")).to_have_text("Rejected")
        if n < len(texts) - 1:
            expect(page.locator("#next-item")).to_be_focused()
            if n == 0:
                shot("review-keyboard-next")
            page.keyboard.press("Enter")
    decided = ReviewItem.objects.filter(content__in=texts).order_by("decided_at")
    assert [item.content for item in decided] == texts
    assert all(item.state == "rejected" for item in decided)
    assert console_errors == []


@pytest.mark.parametrize("path", ["/review/", "item"])
def test_the_review_pages_fit_a_phone(page, live_server, login, team, queue, path, shot):
    page.set_viewport_size({"width": 390, "height": 844})
    login("bob")
    url = f"/review/{queue.id}/" if path == "item" else path
    page.goto(f"{live_server.url}{url}")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    if path == "item":
        # the decision panel follows the reason and the content, not the whole analysis
        panel = page.locator("#decision-panel").bounding_box()
        chart = page.locator(".chart").first.bounding_box()
        assert panel["y"] < chart["y"]
        shot("review-detail-phone")
    else:
        shot("review-queue-phone")


def test_a_held_item_refuses_another_reviewers_decision(
    page, live_server, login, team, queue, console_errors
):
    queue.assigned_to = team["alice"]
    queue.save()
    login("bob")
    page.goto(f"{live_server.url}/review/{queue.id}/")
    expect(page.locator(".review-notice.held")).to_contain_text("Assigned to alice")
    page.fill("#id_reason", "Violent.")
    page.click("button[value=reject]")
    expect(page.locator("#decision-panel [role=alert]")).to_contain_text("take it over")
    queue.refresh_from_db()
    assert queue.state == "pending"
    assert console_errors == []


def test_a_rewrite_below_the_thresholds_is_refused_without_an_override(
    page, live_server, login, team, queue, console_errors
):
    weak = "Those people are vermin and should be driven out of the country by force."
    login("alice")
    page.goto(f"{live_server.url}/review/{queue.id}/")
    page.click("text=Rewrite it instead")
    page.fill("#id_content", weak)
    page.fill("#id_reason", "Softened a little.")
    page.click("button[value=rewrite]")
    expect(page.locator("#content-errors")).to_contain_text("fails the run's thresholds")
    page.check("#id_override")
    page.fill("#id_reason", "Kept as evidence.")
    page.click("button[value=rewrite]")
    expect(page.locator("#decision-panel")).to_contain_text(
        "saved below the thresholds by override"
    )
    queue.refresh_from_db()
    assert (queue.state, queue.rewrite_override) == ("rewritten", True)
    assert console_errors == []


def test_start_reviewing_opens_the_next_item_held_for_the_reviewer(
    page, live_server, login, team, queue, console_errors, shot
):
    login("bob")
    page.goto(f"{live_server.url}/review/")
    page.click("#start-reviewing")
    expect(page.locator("#decision-panel")).to_contain_text("Held for you until")
    # the oldest critical item comes first
    expect(page.locator(".content.flagged")).to_have_text(
        "Stop taking your insulin, you will feel better."
    )
    shot("review-work-mode")
    assert console_errors == []
