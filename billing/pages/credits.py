"""The credits page: balance, usage per day and the ledger; staff grant or adjust credits.

The ledger reads one line per call: a run's (or an evaluation's) hold, charge and release
fold into one line with the net amount, linked to the run or the key, that opens onto its
raw entries. An htmx request gets the partial its target names (``usage`` or ``ledger``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from billing.dashboard import ADMIN, DashboardRequest, member_required
from billing.models import Account, APIKey, CreditAccount, LedgerEntry
from billing.pages.forms import CreditChangeForm, LedgerFilterForm
from railsite.rendering import render_page
from regen import charts
from regen.models import Run

PAGE_SIZE = 25
USAGE_PERIODS = (7, 30, 90)
USAGE_DAYS = 30
"""The usage chart's default period, in days."""
Kind = LedgerEntry.Kind


@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def credits_page(request: DashboardRequest) -> HttpResponse:
    """Balance, usage chart and ledger; staff may grant or adjust credits with a reason."""
    account = request.seat.account
    form = None
    if request.user.is_staff:
        form = CreditChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only platform staff change credits.")
        if form.is_valid() and (entry := form.apply(account=account, user=request.user)):
            messages.success(
                request, f"Done: {entry.kind} {entry.amount}; balance now {entry.balance_after}."
            )
            return redirect("credits")
    days = _period(request.GET.get("days"))
    if request.htmx and request.htmx.target == "usage":
        return render_page(request, "billing/credits.html", _usage(account, days), partial="usage")
    filters = LedgerFilterForm(request.GET)
    context = {
        **_usage(account, days),
        **_ledger(account, filters, request.GET.get("page")),
        "form": form,
        "credits": CreditAccount.objects.get(account=account),
        "contact": billing_contact(account),
    }
    return render_page(request, "billing/credits.html", context, partial="ledger")


def _period(value: str | None) -> int:
    """Read the chart's period: one of USAGE_PERIODS, else the default."""
    return int(value) if value in {str(days) for days in USAGE_PERIODS} else USAGE_DAYS


def _usage(account: Account, days: int) -> dict[str, Any]:
    figure, total = _usage_figure(account, days)
    return {
        "usage_figure": figure,
        "usage_days": days,
        "usage_total": total,
        "usage_periods": USAGE_PERIODS,
    }


def _usage_figure(account: Account, days: int = USAGE_DAYS) -> tuple[dict[str, Any], Decimal]:
    """Chart the credits the account was charged per day over the last ``days`` days."""
    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(start, time.min))
    rows = list(
        LedgerEntry.objects.filter(account=account, kind=Kind.CHARGE, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(spent=-Sum("amount"))
        .values_list("day", "spent")
        .order_by("day")
    )
    data = [{"day": day, "credits": float(spent)} for day, spent in rows]
    figure = charts.credits_per_day(
        data, "credits", title="Credits charged per day", start=start, end=today
    )
    return figure, sum((spent for _, spent in rows), Decimal("0"))


def _ledger(account: Account, filters: LedgerFilterForm, page: str | None) -> dict[str, Any]:
    """The page of ledger lines the filters ask for, each with its raw entries."""
    lines = filters.lines(LedgerEntry.objects.filter(account=account))
    shown = Paginator(lines, PAGE_SIZE).get_page(page)
    return {"page": shown, "lines": ledger_lines(account, shown), "filters": filters}


@dataclass
class LedgerLine:
    """One line of the ledger as the page shows it: a call folded, or a lone entry."""

    at: datetime
    title: str
    net: Decimal
    held: Decimal
    balance_after: Decimal
    entries: list[LedgerEntry]
    kind: str = ""
    """The entry's kind for a lone entry; "" for a call."""
    summary: str = ""
    status: str = ""
    status_code: str = ""
    run: Run | None = None
    key: APIKey | None = None
    by: Any = None
    details: list[tuple[str, LedgerEntry]] = field(default_factory=list)


def ledger_lines(account: Account, rows: Iterable[Mapping[str, Any]]) -> list[LedgerLine]:
    """Turn a page of ``LedgerEntry.objects.lines()`` into lines: three queries a page."""
    rows = list(rows.object_list if isinstance(rows, Page) else rows)
    entries = (
        LedgerEntry.objects.filter(account=account)
        .in_lines(rows)
        .select_related("hold__api_key", "created_by")
        .order_by("id")
    )
    grouped: dict[Any, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        grouped[entry.reference if entry.hold_id and entry.reference else entry.id].append(entry)
    runs = _runs(account, [row["line_reference"] for row in rows if row["line_reference"]])
    lines = []
    for row in rows:
        group = grouped[row["line_reference"] or row["line_entry"]]
        if not group:
            continue  # written between the two queries' snapshots: shown on the next view
        if row["line_reference"]:
            lines.append(_call_line(row, group, runs.get(row["line_reference"])))
        else:
            lines.append(_entry_line(group[0]))
    return lines


def _runs(account: Account, references: list[str]) -> dict[str, Run]:
    ids = []
    for reference in references:
        try:
            ids.append(uuid.UUID(reference))
        except ValueError:
            continue
    found = Run.objects.filter(account=account, id__in=ids).select_related("api_key", "created_by")
    return {run.req_id: run for run in found}


ENTRY_WORDS: dict[str, str] = {
    Kind.HOLD: "Reserved the most it could cost",
    Kind.CHARGE: "Charged for the work done",
    Kind.RELEASE: "Returned what was not used",
}
CALL_TITLES = {
    "evaluation": "Evaluation",
    "agent prompt-injection check": "Prompt-injection check",
    "agent tool-result check": "Tool-result check",
}


def _call_line(row: Mapping[str, Any], group: list[LedgerEntry], run: Run | None) -> LedgerLine:
    """Fold a call's hold, charge and release into one line, in words."""
    first, last = group[0], group[-1]
    reserved = sum((e.held_change for e in group if e.kind == Kind.HOLD), Decimal("0"))
    charged = -row["net"]
    line = LedgerLine(
        at=last.created_at,
        title=_call_title(first, run),
        net=row["net"],
        held=row["held"],
        balance_after=last.balance_after,
        entries=group,
        run=run,
        key=run.api_key if run else first.hold.api_key if first.hold else None,
        by=run.created_by if run else None,
        details=[(ENTRY_WORDS.get(e.kind, e.get_kind_display()), e) for e in group],
    )
    if run is not None:
        line.status, line.status_code = run.get_status_display(), run.status
    elif row["held"]:
        line.status, line.status_code = "Running", "running"
    else:
        failed = charged == 0
        line.status, line.status_code = ("Failed", "failed") if failed else ("Done", "passed")
    if row["held"]:
        line.summary = f"{row['held']:,.2f} credits reserved while it runs"
    elif charged and reserved > charged:
        returned = reserved - charged
        line.summary = (
            f"Charged {charged:,.2f} of {reserved:,.2f} reserved; {returned:,.2f} returned"
        )
    elif charged:
        line.summary = f"Charged {charged:,.2f}"
    else:
        line.summary = f"Nothing charged: the {reserved:,.2f} reserved were returned"
    return line


def _call_title(hold_entry: LedgerEntry, run: Run | None) -> str:
    if run is not None:
        if run.external:
            return "Safe regeneration (your model)"
        titles: dict[str, str] = {
            Run.Kind.SAFE_REGENERATE: "Safe regeneration",
            Run.Kind.EVALGUARD: "Safe regeneration (EvalGuard API)",
            Run.Kind.EVAL: "Evaluation, regenerated by policy",
        }
        return titles.get(run.kind, run.get_kind_display())
    memo = hold_entry.memo.strip()
    if memo in CALL_TITLES:
        return CALL_TITLES[memo]
    words = memo.removesuffix(" worst case").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "Call"


def _entry_line(entry: LedgerEntry) -> LedgerLine:
    """A grant, purchase, adjustment or refund: its own line, with its reason."""
    return LedgerLine(
        at=entry.created_at,
        title=entry.get_kind_display(),
        kind=entry.kind,
        net=entry.amount,
        held=entry.held_change,
        balance_after=entry.balance_after,
        entries=[entry],
        summary=entry.memo,
        by=entry.created_by,
        key=entry.hold.api_key if entry.hold else None,
    )


def billing_contact(account: Account) -> dict[str, str]:
    """Say whom an account admin asks for more credits (``RAIL_BILLING_CONTACT``)."""
    contact = (settings.RAIL_BILLING_CONTACT or "").strip()
    subject = f"More credits for {account.name} ({account.slug})"
    if contact.startswith(("https://", "http://")):
        return {"kind": "url", "text": contact, "href": contact}
    if "@" in contact and " " not in contact:
        address = contact.removeprefix("mailto:")
        href = f"mailto:{address}?subject={quote(subject)}"
        return {"kind": "email", "text": address, "href": href, "subject": subject}
    return {"kind": "text" if contact else "", "text": contact, "subject": subject}
