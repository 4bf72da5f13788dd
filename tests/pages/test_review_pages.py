"""The review queue and review detail pages, through Django's test client."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from regen.diff import highlight, issue_spans
from regen.engine.dimensions import DIMENSIONS
from regen.models import ReviewItem, Run
from tests.api.texts import VIOLENT
from tests.factories import ProjectFactory

XSS = '<script>alert(1)</script> and "><img src=x onerror=alert(1)>'
SAFE_REWRITE = "Please keep discussions about immigration respectful; violence is never acceptable."


def make_item(
    account,
    *,
    project=None,
    content=VIOLENT,
    issues=(),
    state="pending",
    reason="critical",
    age=None,
):
    """Store a review item as the loop would (``issues``: (dimension, description, start, end))."""
    scores = {
        d: {"score": 8.0, "confidence": 0.9, "explanation": f"{d} looks fine.", "issues": []}
        for d in DIMENSIONS
    }
    for dimension, description, start, end in issues:
        scores[dimension]["score"] = 2.5
        scores[dimension]["explanation"] = f"{dimension} lowered."
        scores[dimension]["issues"].append(
            {
                "dimension": dimension,
                "description": description,
                "kind": "test",
                "severity": 0.9,
                "span": {"start": start, "end": end},
            }
        )
    failing = [d for d in DIMENSIONS if scores[d]["score"] < 7]
    run = Run.objects.create(
        account=account, project=project, request={}, original_content=content, status="critical"
    )
    item = ReviewItem.objects.create(
        account=account,
        project=project,
        run=run,
        reason=reason,
        content=content,
        score=3.1,
        evaluation={"score": 3.1, "confidence": 0.9, "engine": "embedded", "scores": scores},
        failing_dimensions=failing,
        state=state,
    )
    if age is not None:
        ReviewItem.objects.filter(id=item.id).update(created_at=timezone.now() - age)
        item.refresh_from_db()
    return item


@pytest.fixture
def item(account_a, project_a):
    return make_item(account_a, project=project_a, issues=[("safety", "Threatens violence", 0, 15)])


@pytest.fixture
def as_bob(client, bob):
    client.force_login(bob)
    return client


def queue(client, **params):
    return client.get(reverse("review-queue"), params)


def detail_url(item):
    return reverse("review-detail", args=[item.id])


def decide_url(item):
    return reverse("review-decide", args=[item.id])


# --- the queue -------------------------------------------------------------------------------


def test_the_queue_lists_pending_items_before_decided_ones(as_bob, account_a):
    make_item(account_a, content="An old pending item.", age=timedelta(days=2))
    make_item(account_a, content="A fresh approved item.", state="approved")
    body = queue(as_bob, state="all").content.decode()
    assert body.index("An old pending item.") < body.index("A fresh approved item.")


def test_by_default_the_queue_shows_only_the_work_still_to_do(as_bob, account_a):
    make_item(account_a, content="Still pending.")
    make_item(account_a, content="Already approved.", state="approved")
    body = queue(as_bob).content.decode()
    assert "Still pending." in body
    assert "Already approved." not in body


def test_critical_items_come_first_then_the_oldest(as_bob, account_a):
    make_item(account_a, content="Fresh critical.", age=timedelta(minutes=5))
    make_item(account_a, content="Old on-failure.", reason="on_failure", age=timedelta(days=3))
    make_item(account_a, content="Old critical.", age=timedelta(days=1))
    make_item(account_a, content="Fresh on-failure.", reason="on_failure", age=timedelta(minutes=1))
    body = queue(as_bob).content.decode()
    order = ["Old critical.", "Fresh critical.", "Old on-failure.", "Fresh on-failure."]
    positions = [body.index(text) for text in order]
    assert positions == sorted(positions)


def test_the_queue_filters_by_reason_and_assignee(as_bob, bob, account_a):
    mine = make_item(account_a, content="Mine, critical.")
    mine.assigned_to = bob
    mine.save()
    make_item(account_a, content="Nobody has it, on failure.", reason="on_failure")

    def shown(**params):
        body = queue(as_bob, **params).content.decode()
        return {t for t in ("Mine, critical.", "Nobody has it, on failure.") if t in body}

    assert shown(reason="critical") == {"Mine, critical."}
    assert shown(reason="on_failure") == {"Nobody has it, on failure."}
    assert shown(assignee="me") == {"Mine, critical."}
    assert shown(assignee="unassigned") == {"Nobody has it, on failure."}


def test_the_queue_filters_by_dimension_project_state_and_age(as_bob, account_a, project_a):
    other = ProjectFactory(account=account_a, name="Billing bot")
    make_item(
        account_a, project=project_a, content="Unsafe and pending.", issues=[("safety", "x", 0, 3)]
    )
    make_item(
        account_a,
        project=other,
        content="Private and approved.",
        issues=[("privacy", "y", 0, 3)],
        state="approved",
    )
    make_item(
        account_a,
        project=other,
        content="Old and biased.",
        issues=[("fairness", "z", 0, 3)],
        age=timedelta(days=8),
    )

    def shown(**params):
        body = queue(as_bob, **params).content.decode()
        return {
            text
            for text in ("Unsafe and pending.", "Private and approved.", "Old and biased.")
            if text in body
        }

    assert shown(dimension="safety") == {"Unsafe and pending."}
    assert shown(project=other.id, state="all") == {"Private and approved.", "Old and biased."}
    assert shown(project=other.id) == {"Old and biased."}  # pending only by default
    assert shown(state="approved") == {"Private and approved."}
    assert shown(age="7d") == {"Old and biased."}
    assert shown(age="1h", project=other.id, state="pending") == {"Old and biased."}
    assert shown(dimension="nonsense", project="999999", state="all") == {
        "Unsafe and pending.",
        "Private and approved.",
        "Old and biased.",
    }


def test_the_queue_shows_state_reason_score_dimensions_project_and_assignee(
    as_bob, account_a, project_a, bob
):
    item = make_item(
        account_a,
        project=project_a,
        issues=[("privacy", "Phone number", 0, 5)],
        reason="on_failure",
    )
    ReviewItem.objects.filter(id=item.id).update(assigned_to=bob)
    row = queue(as_bob).content.decode().split("<tbody>")[1]
    for text in (
        "Pending",
        "on failure",
        "3.1",
        "privacy",
        "Patient portal",
        "bob",
        detail_url(item),
    ):
        assert text in row


def test_a_critical_item_pending_for_over_an_hour_is_flagged(as_bob, account_a):
    make_item(account_a, content="Waiting too long.", age=timedelta(hours=2))
    make_item(account_a, content="Just arrived.")
    make_item(
        account_a, content="Old but not critical.", reason="on_failure", age=timedelta(hours=3)
    )
    rows = queue(as_bob).content.decode().split("<tbody>")[1].split("</tr>")
    flagged = [row for row in rows if 'class="overdue"' in row]
    assert len(flagged) == 1
    assert "Waiting too long." in flagged[0]


def test_an_htmx_request_gets_only_the_list_partial(as_bob, account_a):
    make_item(account_a, content="Partial content.")
    response = as_bob.get(
        reverse("review-queue"), {"state": "pending"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="queue">')
    assert "Partial content." in body
    assert "<html" not in body
    assert "hx-get" not in body.split('id="queue"')[0]
    assert "HX-Request" in response["Vary"]


def test_an_htmx_history_restore_gets_the_whole_page(as_bob, account_a):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in as_bob.get(reverse("review-queue"), headers=headers).content.decode()


def test_the_queue_paginates_and_keeps_the_filters_in_its_links(as_bob, account_a):
    for n in range(27):
        make_item(account_a, content=f"Item number {n:02d}.")
    first = queue(as_bob, state="pending").content.decode()
    assert first.count("Item number") == 25
    assert "state=pending&amp;page=2" in first
    second = queue(as_bob, state="pending", page=2).content.decode()
    assert second.count("Item number") == 2


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_queue_and_detail_query_counts_do_not_grow_with_rows(as_bob, account_a, project_a, bob):
    first = make_item(account_a, project=project_a, issues=[("safety", "x", 0, 4)])
    as_bob.get(reverse("review-queue"))  # the first page after log-in also saves the session
    one = _queries(as_bob, reverse("review-queue"))
    one_filtered = _queries(
        as_bob, reverse("review-queue") + f"?project={project_a.id}&dimension=safety&age=1h"
    )
    one_detail = _queries(as_bob, detail_url(first))
    for _ in range(30):
        extra = make_item(
            account_a, project=ProjectFactory(account=account_a), issues=[("safety", "x", 0, 4)]
        )
        ReviewItem.objects.filter(id=extra.id).update(assigned_to=bob)
    assert _queries(as_bob, reverse("review-queue")) == one <= 10
    assert (
        _queries(
            as_bob, reverse("review-queue") + f"?project={project_a.id}&dimension=safety&age=1h"
        )
        == one_filtered
    )
    assert _queries(as_bob, detail_url(first)) == one_detail <= 10


# --- access ----------------------------------------------------------------------------------


def test_a_page_needs_a_login(client, item):
    assert "/login/" in client.get(reverse("review-queue"))["Location"]
    assert "/login/" in client.get(detail_url(item))["Location"]


def test_another_accounts_item_is_not_found(client, charlie, item):
    client.force_login(charlie)
    assert client.get(detail_url(item)).status_code == 404
    assert client.post(decide_url(item), {"decision": "approve", "reason": "x"}).status_code == 404
    assert (
        client.post(reverse("review-assign", args=[item.id]), {"assignee": "me"}).status_code == 404
    )
    assert "Threatens" not in queue(client).content.decode()
    item.refresh_from_db()
    assert item.state == "pending"
    assert item.assigned_to is None


def test_a_viewer_sees_the_item_read_only_and_cannot_decide_or_assign(client, victor, item):
    client.force_login(victor)
    page = client.get(detail_url(item)).content.decode()
    assert "read this item" in page
    assert decide_url(item) not in page
    assert "Assign to me" not in page
    assert (
        client.post(decide_url(item), {"decision": "approve", "reason": "Fine."}).status_code == 403
    )
    assert (
        client.post(reverse("review-assign", args=[item.id]), {"assignee": "me"}).status_code == 403
    )
    item.refresh_from_db()
    assert item.state == "pending"
    assert item.assigned_to is None


def test_deciding_needs_a_post(as_bob, item):
    assert as_bob.get(decide_url(item)).status_code == 405


# --- deciding --------------------------------------------------------------------------------


def test_a_reviewer_approves_with_a_reason_and_who_when_why_are_kept(as_bob, bob, item):
    response = as_bob.post(
        decide_url(item),
        {"decision": "approve", "reason": "Quoted from a novel.", "confirm_critical": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(item)
    item.refresh_from_db()
    assert (item.state, item.decided_by, item.decision_reason) == (
        "approved",
        bob,
        "Quoted from a novel.",
    )
    assert item.decided_at is not None
    page = as_bob.get(detail_url(item)).content.decode()
    assert "Quoted from a novel." in page
    assert "Decided by" in page
    assert ">bob<" in page
    assert decide_url(item) not in page


def test_an_admin_can_reject(client, alice, item):
    client.force_login(alice)
    client.post(decide_url(item), {"decision": "reject", "reason": "Incites violence."})
    item.refresh_from_db()
    assert item.state == "rejected"
    assert item.decided_by == alice


def test_a_decision_needs_a_reason_shown_beside_the_field(as_bob, item):
    response = as_bob.post(decide_url(item), {"decision": "reject", "reason": "   "})
    assert response.status_code == 400
    assert 'id="reason-errors"' in response.content.decode()
    assert "Give a reason" in response.content.decode()
    item.refresh_from_db()
    assert item.state == "pending"


def test_an_unknown_decision_is_refused(as_bob, item):
    response = as_bob.post(decide_url(item), {"decision": "maybe", "reason": "Hmm."})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    item.refresh_from_db()
    assert item.state == "pending"


def test_a_rewrite_is_scored_stored_and_shown(as_bob, api_a, bob):
    api_a.post("/railscore/v1/safe-regenerate", {"content": VIOLENT}, format="json")
    item = ReviewItem.objects.get()
    as_bob.post(
        decide_url(item),
        {"decision": "rewrite", "reason": "Rewritten safely.", "content": SAFE_REWRITE},
    )
    item.refresh_from_db()
    assert item.state == "rewritten"
    assert item.rewritten_content == SAFE_REWRITE
    assert item.rewritten_evaluation["score"] > 5
    page = as_bob.get(detail_url(item)).content.decode()
    assert SAFE_REWRITE in page
    assert f"score {item.rewritten_evaluation['score']:.1f}" in page


def test_a_too_short_rewrite_shows_the_error_beside_the_content(as_bob, item):
    response = as_bob.post(
        decide_url(item), {"decision": "rewrite", "reason": "Fixing it.", "content": "short"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="content-errors"' in body
    assert "between 10 and" in body
    assert '<details class="rewrite" open>' in body
    item.refresh_from_db()
    assert item.state == "pending"


def test_a_second_decision_shows_already_decided_not_a_500(as_bob, item):
    as_bob.post(
        decide_url(item), {"decision": "approve", "reason": "Fine.", "confirm_critical": "on"}
    )
    again = as_bob.post(decide_url(item), {"decision": "reject", "reason": "Changed my mind."})
    assert again.status_code == 409
    assert "already been decided" in again.content.decode()
    htmx = as_bob.post(
        decide_url(item), {"decision": "reject", "reason": "Again."}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 200
    assert "already been decided" in htmx.content.decode()
    item.refresh_from_db()
    assert item.state == "approved"
    assert item.decision_reason == "Fine."


def test_an_htmx_decision_answers_with_the_decision_panel_partial(as_bob, item):
    response = as_bob.post(
        decide_url(item),
        {"decision": "reject", "reason": "Harmful."},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card panel" id="decision-panel">')
    assert "<html" not in body
    assert "Harmful." in body
    assert "Rejected" in body


def test_an_htmx_decision_error_is_swapped_in_beside_the_field(as_bob, item):
    response = as_bob.post(
        decide_url(item), {"decision": "approve", "reason": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'id="reason-errors"' in response.content.decode()


# --- assignment ------------------------------------------------------------------------------


def test_a_reviewer_assigns_an_item_to_themself_and_unassigns_it(as_bob, bob, item):
    assign = reverse("review-assign", args=[item.id])
    assert as_bob.post(assign, {"assignee": "me"}).status_code == 302
    item.refresh_from_db()
    assert item.assigned_to == bob
    panel = as_bob.post(assign, {"assignee": ""}, headers={"HX-Request": "true"}).content.decode()
    item.refresh_from_db()
    assert item.assigned_to is None
    assert "Unassigned." in panel
    assert "Assign to me" in panel


def test_a_decided_item_cannot_be_assigned(as_bob, item):
    ReviewItem.objects.filter(id=item.id).update(state="rejected")
    response = as_bob.post(reverse("review-assign", args=[item.id]), {"assignee": "me"})
    assert response.status_code == 409
    assert "already been decided" in response.content.decode()


# --- what the detail shows -------------------------------------------------------------------


def test_the_detail_highlights_the_flagged_spans_and_draws_the_chart(as_bob, item):
    page = as_bob.get(detail_url(item)).content.decode()
    assert (
        f'<mark class="span" title="Threatens violence">{VIOLENT[:15]}</mark>{VIOLENT[15:40]}'
        in page
    )
    figure = json.loads(
        page.split('id="review-dimensions" type="application/json">')[1].split("</script>")[0]
    )
    bars = dict(zip(figure["data"][0]["x"], figure["data"][0]["marker"]["color"], strict=True))
    assert bars["Safety"] != bars["Privacy"]
    assert bars["Safety"] == "#b3261e"


def test_highlight_merges_overlapping_spans_and_keeps_every_character():
    text = "Call 217-555-0148 at 42 Elm Street now."
    evaluation = {
        "scores": {
            "privacy": {
                "issues": [
                    {"description": "Phone", "span": {"start": 5, "end": 17}},
                    {"description": "Doxxing", "span": {"start": 0, "end": 12}},
                    {"description": "Address", "span": {"start": 21, "end": 34}},
                ]
            },
            "safety": {
                "issues": [
                    {"description": "Doxxing", "span": {"start": 0, "end": 12}},
                    {"description": "No span"},
                    {"description": "Bad", "span": {"start": 90, "end": 99}},
                ]
            },
        }
    }
    html = str(highlight(text, issue_spans(evaluation)))
    assert html == (
        '<mark class="span" title="Doxxing; Phone">Call 217-555-0148</mark> at '
        '<mark class="span" title="Address">42 Elm Street</mark> now.'
    )


def test_user_text_is_escaped_in_the_queue_and_the_detail(as_bob, account_a):
    item = make_item(account_a, content=XSS, issues=[("safety", 'Script "tag" <b>', 0, 25)])
    ReviewItem.objects.filter(id=item.id).update(
        state="rejected", decision_reason=XSS, rewritten_content=XSS
    )
    for body in (
        queue(as_bob, state="all").content.decode(),
        as_bob.get(detail_url(item)).content.decode(),
    ):
        assert "<script>alert" not in body
        assert "<img src=x" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    detail = as_bob.get(detail_url(item)).content.decode()
    assert 'title="Script &quot;tag&quot; &lt;b&gt;"' in detail


# --- safe decisions (issue 12) ---------------------------------------------------------------


def test_approving_critical_content_asks_for_confirmation_and_changes_nothing(as_bob, item):
    response = as_bob.post(decide_url(item), {"decision": "approve", "reason": "Looks fine."})
    assert response.status_code == 400
    assert "confirm that it may be served" in response.content.decode()
    item.refresh_from_db()
    assert item.state == "pending"


def test_an_item_held_by_another_reviewer_cannot_be_decided_without_taking_it_over(
    as_bob, item, alice
):
    item.assigned_to = alice
    item.save()
    page = as_bob.get(detail_url(item)).content.decode()
    assert "Assigned to alice" in page
    refused = as_bob.post(decide_url(item), {"decision": "reject", "reason": "Violent."})
    assert refused.status_code == 409
    assert "take it over" in refused.content.decode()
    item.refresh_from_db()
    assert item.state == "pending"
    as_bob.post(reverse("review-assign", args=[item.id]), {"assignee": "me"})
    assert (
        as_bob.post(decide_url(item), {"decision": "reject", "reason": "Violent."}).status_code
        == 302
    )


def test_a_rewrite_below_the_runs_thresholds_is_refused_unless_overridden(as_bob, item):
    weak = "Those people are vermin and should be driven out of the country by force."
    refused = as_bob.post(
        decide_url(item), {"decision": "rewrite", "reason": "Softened.", "content": weak}
    )
    assert refused.status_code == 400
    assert "fails the run&#x27;s thresholds" in refused.content.decode()
    item.refresh_from_db()
    assert item.state == "pending"
    saved = as_bob.post(
        decide_url(item),
        {"decision": "rewrite", "reason": "Kept on purpose.", "content": weak, "override": "on"},
    )
    assert saved.status_code == 302
    item.refresh_from_db()
    assert (item.state, item.rewrite_override) == ("rewritten", True)
    assert "saved below the thresholds by override" in as_bob.get(detail_url(item)).content.decode()


def test_the_item_says_why_it_is_here_with_failing_dimensions_and_thresholds(as_bob, item):
    page = as_bob.get(detail_url(item)).content.decode()
    assert "Why it is here" in page
    assert "Failing dimension" in page
    assert "Open its run and iterations" in page


def test_an_expired_session_sends_an_htmx_request_to_the_login_page(client, item):
    response = client.post(
        decide_url(item),
        {"decision": "reject", "reason": "x"},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{detail_url(item)}"},
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/?next=")
    assert response["HX-Redirect"].endswith(detail_url(item))  # back to the page, not the POST


# --- work mode (issue 12) --------------------------------------------------------------------


def test_start_reviewing_takes_the_next_free_item_and_locks_it(as_bob, bob, alice, account_a):
    held = make_item(account_a, content="Alice holds this one.", age=timedelta(days=2))
    held.assigned_to = alice
    held.save()
    oldest_free = make_item(account_a, content="The oldest free one.", age=timedelta(days=1))
    make_item(account_a, content="A newer one.", age=timedelta(hours=1))
    response = as_bob.post(reverse("review-start"))
    assert response.status_code == 302
    assert response["Location"] == detail_url(oldest_free)
    oldest_free.refresh_from_db()
    assert oldest_free.assigned_to == bob
    assert oldest_free.assigned_until > timezone.now() + timedelta(minutes=14)
    assert "Held for you until" in as_bob.get(detail_url(oldest_free)).content.decode()


def test_two_reviewers_starting_get_different_items(client, as_bob, bob, alice, account_a):
    make_item(account_a, content="First.", age=timedelta(hours=2))
    make_item(account_a, content="Second.", age=timedelta(hours=1))
    first = as_bob.post(reverse("review-start"))["Location"]
    from django.test import Client

    other = Client()
    other.force_login(alice)
    second = other.post(reverse("review-start"))["Location"]
    assert first != second


def test_an_expired_lock_no_longer_holds_the_item(as_bob, alice, account_a):
    item = make_item(account_a, content="Alice went home.")
    ReviewItem.objects.filter(id=item.id).update(
        assigned_to=alice, assigned_until=timezone.now() - timedelta(minutes=1)
    )
    decided = as_bob.post(decide_url(item), {"decision": "reject", "reason": "Violent."})
    assert decided.status_code == 302


def test_start_reviewing_with_an_empty_queue_says_so(as_bob):
    response = as_bob.post(reverse("review-start"), follow=True)
    assert "Nothing is waiting for review." in response.content.decode()


# --- near-duplicates (issue 12) --------------------------------------------------------------


def test_identical_texts_are_counted_and_decided_together(as_bob, bob, alice, account_a):
    text = "Buy now!!! This miracle pill cures everything, guaranteed."
    first = make_item(account_a, content=text, age=timedelta(hours=3))
    twin = make_item(
        account_a,
        content="buy now — this miracle pill CURES everything, guaranteed",
        age=timedelta(hours=2),
    )
    held = make_item(account_a, content=text, age=timedelta(hours=1))
    held.assigned_to = alice
    held.save()
    other = make_item(account_a, content="A different text entirely, about gardening.")

    body = queue(as_bob).content.decode()
    assert "+2 identical" in body  # the held one counts among the pending duplicates
    page = as_bob.get(detail_url(first)).content.decode()
    assert "Apply this decision to the 1 identical pending item too" in page  # not the held one

    response = as_bob.post(
        decide_url(first),
        {"decision": "reject", "reason": "Spam.", "with_duplicates": "on"},
        follow=True,
    )
    assert "1 identical item was decided the same way." in response.content.decode()
    states = {i.id: i.state for i in ReviewItem.objects.all()}
    assert states[first.id] == states[twin.id] == "rejected"
    assert states[held.id] == "pending"  # alice holds it
    assert states[other.id] == "pending"
    assert ReviewItem.objects.get(id=twin.id).decided_by == bob


# --- reviewer agreement (issue 12) ----------------------------------------------------------


def test_reviewer_agreement_counts_overturns_per_dimension(as_bob, account_a):
    # failing safety, approved: the reviewer overturned safety
    approved = make_item(account_a, content="Approved text.", issues=[("safety", "x", 0, 3)])
    ReviewItem.objects.filter(id=approved.id).update(state="approved")
    # failing safety, rejected: agreement on safety
    rejected = make_item(account_a, content="Rejected text.", issues=[("safety", "y", 0, 3)])
    ReviewItem.objects.filter(id=rejected.id).update(state="rejected")
    from regen import reviews

    rows = reviews.agreement(account_a)
    assert rows["safety"] == {"decided": 2, "overturned": 1}
    page = queue(as_bob).content.decode()
    assert "Reviewer agreement" in page
    assert 'data-figure="agreement-figure"' in page


def test_reviewer_agreement_with_no_decisions_says_so(as_bob):
    assert "No approvals or rejections yet." in queue(as_bob).content.decode()
