"""The credits page's usage chart, per-call ledger and help for admins; key budgets (issue 13)."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import ledger
from billing.models import APIKey, Hold, LedgerEntry
from regen import runs
from tests.factories import APIKeyFactory, ProjectFactory, UserFactory
from tests.pages.test_billing_pages import XSS_NAMES, figure, queries_for

DAY_MS = 86_400_000


def ledger_html(response) -> str:
    body = response.content.decode()
    return body[body.index('<div id="ledger">') :]


def lines_in(response) -> int:
    return ledger_html(response).count('<li class="ledger-line')


def call(account, *, used="3", held="10", reference="req_x", key=None, memo="evaluation"):
    hold = ledger.hold(
        account=account, amount=Decimal(held), reference=reference, memo=memo, api_key=key
    )
    return ledger.settle(hold=hold, used=Decimal(used))


# --- the ledger, one line per call ---


def test_a_runs_hold_charge_and_release_read_as_one_line_linked_to_the_run(
    login, alice, account_a, make_run
):
    run = make_run()
    entries = LedgerEntry.objects.filter(reference=run.req_id)
    assert entries.count() == 3  # hold, charge, release
    part = ledger_html(login(alice).get(reverse("credits")))
    assert part.count('<li class="ledger-line') == 2  # the run, and the account's first grant
    assert f'href="{reverse("run-detail", args=[run.id])}"' in part
    assert "Safe regeneration</a>" in part
    assert f'<span class="badge {run.status}">{run.get_status_display()}</span>' in part
    charged = -sum(e.amount for e in entries)
    assert f"Charged {charged:,.2f} of {run.credits_held:,.2f} reserved" in part
    assert part.count('<tr class="kind-') == 3  # the raw entries, inside the line's <details>
    assert "<details>" in part


def test_a_keys_evaluation_reads_as_one_line_linked_to_the_key(login, alice, account_a, key_a):
    call(account_a, used="1", held="3", reference="ev_1", key=key_a)
    part = ledger_html(login(alice).get(reverse("credits")))
    assert f'key <a href="{reverse("keys")}#key-{key_a.pk}">{key_a.name}</a>' in part
    assert '<strong class="title">Evaluation</strong>' in part
    assert "Charged 1.00 of 3.00 reserved; 2.00 returned" in part
    assert '<span class="num amount negative">-1.00</span>' in part


def test_a_running_call_reads_as_reserved_and_a_failed_one_as_nothing_charged(
    login, alice, account_a
):
    ledger.hold(account=account_a, amount=Decimal("11"), reference="running", memo="evaluation")
    failed = ledger.hold(account=account_a, amount=Decimal("4"), reference="failed", memo="x")
    ledger.release(hold=failed, memo="evaluation failed")
    part = ledger_html(login(alice).get(reverse("credits")))
    assert "11.00 credits reserved while it runs" in part
    assert '<span class="badge running">Running</span>' in part
    assert "Nothing charged: the 4.00 reserved were returned" in part
    assert '<span class="badge failed">Failed</span>' in part


def test_grants_and_adjustments_stay_single_lines_with_their_reason(login, alice, account_a, staff):
    ledger.grant(account=account_a, amount=250, memo="Pilot extension", created_by=staff)
    ledger.adjust(account=account_a, amount=-5, reason="Duplicate charge", created_by=staff)
    response = login(alice).get(reverse("credits"))
    part = ledger_html(response)
    assert lines_in(response) == 3
    assert part.count('class="ledger-line single kind-') == 3
    assert "Pilot extension" in part
    assert "Duplicate charge" in part
    assert "by sam" in part
    assert "+250" not in part  # amounts as the ledger has them
    assert ">250.00<" in part


def test_the_ledger_paginates_lines_not_entries(login, alice, account_a):
    for n in range(30):
        call(account_a, used="1", held="2", reference=f"req_{n}")  # 90 entries
    client = login(alice)
    first = client.get(reverse("credits"))
    assert lines_in(first) == 25
    assert "Page 1 of 2 · 31 lines" in first.content.decode()
    assert lines_in(client.get(reverse("credits"), {"page": 2})) == 6


def test_a_reference_to_another_accounts_run_is_never_linked(
    login, alice, charlie, account_a, account_b
):
    other = runs.open_run(
        caller=runs.Caller(account=account_b),
        request=_request(),
        hold=Decimal("2"),
    )
    call(account_a, reference=other.req_id, used="1", held="2")
    part = ledger_html(login(alice).get(reverse("credits")))
    assert reverse("run-detail", args=[other.id]) not in part
    assert login(alice).get(reverse("run-detail", args=[other.id])).status_code == 404


def _request():
    from regen.engine.requests import parse_regenerate_request

    return parse_regenerate_request({"content": "A reply long enough to be scored."})


def test_the_ledger_query_count_does_not_grow_with_runs_and_keys(login, alice, account_a, make_run):
    client = login(alice)
    make_run()
    few = queries_for(client, reverse("credits"))
    for n in range(4):
        make_run()
        key = APIKeyFactory(project=ProjectFactory(account=account_a, name=f"P{n}"))
        call(account_a, reference=f"ev_{n}", key=key)
    assert queries_for(client, reverse("credits")) == few


@pytest.mark.parametrize("name", XSS_NAMES)
def test_key_names_and_reasons_in_the_ledger_are_escaped(login, alice, account_a, name):
    key = APIKeyFactory(project=ProjectFactory(account=account_a), name=name)
    call(account_a, key=key, memo=name)
    ledger.grant(account=account_a, amount=1, memo=name)
    part = ledger_html(login(alice).get(reverse("credits")))
    assert name not in part
    assert html.escape(name) in part


# --- the usage chart ---


def test_one_days_usage_is_a_bar_most_of_a_day_wide_in_a_window_of_the_period(
    login, alice, account_a
):
    call(account_a, used="7")
    client = login(alice)
    for days in (7, 30, 90):
        chart = figure(client.get(reverse("credits"), {"days": days}), "usage-figure")
        trace = chart["data"][0]
        assert trace["y"] == [7.0]
        assert trace["width"] == DAY_MS * 0.7  # not plotly's 1 ms for a lone bar
        start, end = chart["layout"]["xaxis"]["range"]
        assert (_day(end) - _day(start)).days == days


def _day(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_the_period_is_7_30_or_90_days_and_30_otherwise(login, alice, account_a):
    client = login(alice)
    for asked, shown in (("7", 7), ("90", 90), ("365", 30), ("x", 30), ("", 30)):
        body = client.get(reverse("credits"), {"days": asked}).content.decode()
        assert f"Usage, last {shown} days" in body


def test_an_htmx_period_switch_answers_with_the_usage_card_only(login, alice, account_a):
    call(account_a, used="4")
    response = login(alice).get(
        reverse("credits"), {"days": "7"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="usage"
    )
    body = response.content.decode().strip()
    assert body.startswith('<section class="card usage" id="usage">')
    assert "Usage, last 7 days" in body
    assert "<strong>4.00</strong> credits charged in the last 7 days" in body
    assert 'id="ledger"' not in body
    assert response["Vary"].count("HX-Request") == 1


# --- how to get more credits ---


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ("billing@example.org", 'href="mailto:billing@example.org?subject=More%20credits%20for'),
        ("https://help.example.org/credits", 'href="https://help.example.org/credits"'),
        ("the IT helpdesk (ext. 4242)", "Ask the IT helpdesk (ext. 4242)"),
        ("", "Ask the people who run this server"),
    ],
)
def test_an_admin_who_is_not_staff_is_told_how_to_get_more_credits(
    login, alice, account_a, settings, contact, expected
):
    settings.RAIL_BILLING_CONTACT = contact
    body = login(alice).get(reverse("credits")).content.decode()
    assert "How to get more credits" in body
    assert expected in body
    assert f"<code>{account_a.slug}</code>" in body
    assert "100 credits a month" in body or "credits a month" in body


def test_the_contact_is_escaped(login, alice, account_a, settings):
    settings.RAIL_BILLING_CONTACT = "<img src=x onerror=alert(1)>"
    body = login(alice).get(reverse("credits")).content.decode()
    assert "<img src=x" not in body


def test_staff_see_the_grant_form_instead(login, staff, account_a):
    body = login(staff).get(reverse("credits"), {"account": account_a.slug}).content.decode()
    assert "Grant or adjust" in body
    assert "How to get more credits" not in body


# --- key budgets on the keys page ---


def test_a_key_is_created_with_a_monthly_budget(login, alice, project_a):
    response = login(alice).post(
        reverse("keys"),
        {"name": "nightly job", "project": project_a.pk, "monthly_credit_budget": "250"},
    )
    assert response.status_code == 200
    assert APIKey.objects.get(name="nightly job").monthly_credit_budget == Decimal("250")
    assert "It may spend 250.00 credits a month." in response.content.decode()


@pytest.mark.parametrize("bad", ["0", "-3", "abc", "1.234", "99999999999"])
def test_a_bad_budget_on_a_new_key_is_an_error_beside_the_field(login, alice, project_a, bad):
    response = login(alice).post(
        reverse("keys"), {"name": "job", "project": project_a.pk, "monthly_credit_budget": bad}
    )
    body = response.content.decode()
    assert 'id="id_monthly_credit_budget_errors"' in body
    assert not APIKey.objects.filter(name="job").exists()


def test_the_keys_page_shows_each_keys_use_against_its_budget(login, alice, account_a):
    key = APIKeyFactory(project=ProjectFactory(account=account_a), monthly_credit_budget=1000)
    ledger.grant(account=account_a, amount=1000, memo="more")
    call(account_a, used="100", held="150", reference="a", key=key)
    ledger.hold(account=account_a, amount=Decimal("23"), reference="b", api_key=key)
    other = APIKeyFactory(project=key.project)
    call(account_a, used="4", reference="c", key=other)
    body = login(alice).get(reverse("keys")).content.decode()
    row = body[body.index(f'id="key-{key.pk}"') :]
    assert "<strong>123.00</strong> of 1,000.00 this month" in row
    assert 'value="12"' in row  # the meter: 12% spent
    other_row = body[body.index(f'id="key-{other.pk}"') :]
    assert "<strong>4.00</strong> this month" in other_row
    assert "no budget" in other_row


def test_an_admin_sets_changes_and_clears_a_keys_budget(login, alice, key_a):
    client = login(alice)
    url = reverse("key-budget", args=[key_a.pk])
    response = client.post(url, {"monthly_credit_budget": "500"})
    assert response.status_code == 302
    key_a.refresh_from_db()
    assert key_a.monthly_credit_budget == Decimal("500")
    response = client.post(url, {"monthly_credit_budget": "750.5"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="keys-panel">')
    assert "now has a budget of 750.50 credits a month" in body
    client.post(url, {"monthly_credit_budget": ""})
    key_a.refresh_from_db()
    assert key_a.monthly_credit_budget is None


@pytest.mark.parametrize("bad", ["0", "-1", "ten", "0.001"])
def test_a_bad_budget_is_a_400_with_the_error_beside_the_keys_field(login, alice, key_a, bad):
    APIKey.objects.filter(pk=key_a.pk).update(monthly_credit_budget=Decimal("40"))
    response = login(alice).post(
        reverse("key-budget", args=[key_a.pk]),
        {"monthly_credit_budget": bad},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="budget-{key_a.pk}-errors"' in body
    assert '<details class="budget-edit" open>' in body
    assert APIKey.objects.get(pk=key_a.pk).monthly_credit_budget == Decimal("40")


def test_another_accounts_key_budget_is_404_and_unchanged(login, alice, key_b):
    response = login(alice).post(
        reverse("key-budget", args=[key_b.pk]), {"monthly_credit_budget": "1"}
    )
    assert response.status_code == 404
    assert APIKey.objects.get(pk=key_b.pk).monthly_credit_budget is None


def test_reviewers_and_viewers_cannot_set_a_budget(login, bob, victor, key_a):
    for user in (bob, victor):
        response = login(user).post(
            reverse("key-budget", args=[key_a.pk]), {"monthly_credit_budget": "1"}
        )
        assert response.status_code == 403
    assert APIKey.objects.get(pk=key_a.pk).monthly_credit_budget is None


def test_a_revoked_key_shows_its_spend_but_offers_no_budget_form(login, alice, key_a):
    from billing import keys

    keys.revoke_key(key=key_a)
    body = login(alice).get(reverse("keys")).content.decode()
    row = body[body.index(f'id="key-{key_a.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "this month" in row
    assert "budget-edit" not in row


@pytest.fixture
def staff(db):
    user = UserFactory(username="sam")
    user.is_staff = True
    user.save()
    return user


def test_holds_of_the_dashboard_count_against_no_key(account_a, alice, make_run):
    make_run()
    assert Hold.objects.filter(account=account_a, api_key__isnull=False).count() == 0
