"""Who may call, how often, and what it costs: accounts, projects, keys, plans, credits.

Rows here are changed only through the domain modules: ``accounts`` (accounts, projects,
members), ``keys`` (API keys) and ``ledger`` (credit balances, holds and entries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Count, F, Max, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from regen.engine.types import DOMAINS

MODES = ("basic", "deep", "auto")
"""Evaluation modes a plan can allow; ``auto`` is basic escalated to deep when unsure."""


def _money(**kwargs: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=14, decimal_places=2, **kwargs)


class Plan(models.Model):
    """What an account may do: monthly credits, request rates, modes, regenerations."""

    name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=40, unique=True)
    credits_per_month = models.PositiveIntegerField()
    requests_per_minute = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    requests_per_day = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    allowed_modes = models.JSONField(default=list, help_text='e.g. ["basic", "deep", "auto"]')
    max_regenerations = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(5)]
    )

    class Meta:
        ordering = ["credits_per_month", "slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def deep_allowed(self) -> bool:
        return "deep" in self.allowed_modes

    def clean(self) -> None:
        modes = self.allowed_modes
        if not isinstance(modes, list) or not modes or not set(modes) <= set(MODES):
            raise ValidationError(
                {"allowed_modes": f"Give a non-empty list of modes from: {', '.join(MODES)}."}
            )


class AccountQuerySet(models.QuerySet["Account"]):
    def visible_to(self, user: Any) -> AccountQuerySet:
        """Return the accounts the user is a member of (every account for staff)."""
        if getattr(user, "is_staff", False):
            return self.all()
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(memberships__user=user)


class Account(models.Model):
    """An organization: members, projects, a plan and one credit balance."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="accounts")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, and give a new account its (empty) credit account."""
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            CreditAccount.objects.get_or_create(account=self)


class Membership(models.Model):
    """A user's role in an account."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        REVIEWER = "reviewer", "Reviewer"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account"], name="membership_unique_user_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.account}"


class Project(models.Model):
    """The SDK's "application": an environment of an account, with its policy.

    Policy fields give the defaults for requests made with the project's keys; when
    ``locked`` is set they override the request instead.
    """

    class Enforcement(models.TextChoices):
        LOG_ONLY = "log_only", "Log only"
        BLOCK = "block", "Block failing content"
        REGENERATE = "regenerate", "Regenerate failing content"

    class EnforcementMode(models.TextChoices):
        MONITOR = "monitor", "Monitor"
        ENFORCE = "enforce", "Enforce"

    class Fallback(models.TextChoices):
        BLOCK = "block", "Block"
        LOG = "log", "Log and serve the best version"
        HUMAN_REVIEW = "human_review", "Send to human review"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    environment = models.CharField(max_length=40, default="production")
    created_at = models.DateTimeField(auto_now_add=True)
    # Policy: request defaults (SPEC 2 and 4).
    default_mode = models.CharField(max_length=10, choices=[(m, m) for m in MODES], default="basic")
    domain = models.CharField(max_length=20, choices=[(d, d) for d in DOMAINS], default="general")
    thresholds = models.JSONField(
        default=dict, blank=True, help_text="The SPEC 2 thresholds object; empty = defaults."
    )
    weights = models.JSONField(
        default=dict, blank=True, help_text="Dimension weights summing to 100; empty = equal."
    )
    locked = models.BooleanField(default=False, help_text="The policy overrides the request.")
    # Policy: what happens to failing content.
    enforcement = models.CharField(
        max_length=20, choices=Enforcement.choices, default=Enforcement.LOG_ONLY
    )
    enforcement_mode = models.CharField(
        max_length=10, choices=EnforcementMode.choices, default=EnforcementMode.MONITOR
    )
    regenerate_enabled = models.BooleanField(default=True)
    regenerate_max_attempts = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    regenerate_fallback = models.CharField(
        max_length=20, choices=Fallback.choices, default=Fallback.LOG
    )
    webhook_url = models.URLField(
        blank=True,
        max_length=500,
        help_text="Receives a signed POST for every review decision (public addresses only, "
        "or hosts in RAIL_WEBHOOK_ALLOWLIST).",
    )
    webhook_secret = models.CharField(
        max_length=64, blank=True, help_text="Signs the deliveries (HMAC-SHA256)."
    )
    review_by_key = models.BooleanField(
        default=False,
        help_text="This project's API keys may decide review items (never those their own "
        "calls created); off, only people decide, in the dashboard.",
    )
    # Engines (regen.engines): blank means the server's own setting.
    evaluator = models.CharField(
        max_length=20,
        blank=True,
        help_text="embedded, llm (the judge model) or cascade; blank: the server's evaluator.",
    )
    judge_model = models.CharField(
        max_length=200, blank=True, help_text="provider/model of the LLM judge; blank: default."
    )
    regenerator = models.CharField(
        max_length=200,
        blank=True,
        help_text="What RAIL_Safe_LLM means for this project: embedded or provider/model; "
        "blank: the server's regenerator.",
    )

    class Meta:
        ordering = ["account__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "slug"], name="project_unique_slug_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account.slug}/{self.slug}"

    @property
    def overall_threshold(self) -> float:
        overall = self.thresholds.get("overall") if isinstance(self.thresholds, dict) else None
        return float(overall.get("score", 7.0)) if isinstance(overall, dict) else 7.0

    @property
    def enforcing(self) -> bool:
        return self.enforcement_mode == self.EnforcementMode.ENFORCE

    def clean(self) -> None:
        for field in ("thresholds", "weights"):
            if not isinstance(getattr(self, field), dict):
                raise ValidationError({field: "Give a JSON object."})


def month_start(now: datetime | None = None) -> datetime:
    """Return the start of the calendar month (UTC) that ``now`` falls in."""
    now = (now or timezone.now()).astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(now: datetime | None = None) -> datetime:
    """Return the start of the calendar month (UTC) after the one ``now`` falls in."""
    start = month_start(now)
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


def hold_spent() -> Case:
    """Return what a hold spends: all of it while open (reserved), its charge once closed."""
    return Case(
        When(state="open", then=F("amount")),
        default=Coalesce(F("used"), Value(Decimal("0"))),
        output_field=models.DecimalField(max_digits=14, decimal_places=2),
    )


class APIKeyQuerySet(models.QuerySet["APIKey"]):
    def with_month_spend(self, now: datetime | None = None) -> APIKeyQuerySet:
        """Annotate each key with ``month_spent``: its holds and charges this month (UTC)."""
        # A subquery per key reads only this month's holds (index hold_key_created), where
        # a join would read every hold the key ever made.
        spent = (
            Hold.objects.filter(api_key=OuterRef("pk"), created_at__gte=month_start(now))
            .values("api_key")
            .annotate(spent=Sum(hold_spent()))
            .values("spent")
        )
        return self.annotate(month_spent=Coalesce(Subquery(spent), Value(Decimal("0"))))


class APIKey(models.Model):
    """A project's API key: only the prefix and a sha256 of the full key are stored."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=120)
    prefix = models.CharField(max_length=16, unique=True)
    hashed_secret = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    monthly_credit_budget = _money(
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="The most credits the key may spend in a calendar month (UTC); empty: no "
        "limit but the account's balance.",
    )

    objects = APIKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (rail_{self.prefix}_…)"

    @property
    def account(self) -> Account:
        return self.project.account

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def budget_share(self) -> int:
        """Return the share of the monthly budget spent, in percent (0–100), for a bar.

        Needs ``month_spent`` (``APIKey.objects.with_month_spend()``); 0 without a budget.
        """
        spent = getattr(self, "month_spent", None)
        if not self.monthly_credit_budget or spent is None:
            return 0
        return min(100, int(100 * spent / self.monthly_credit_budget))


class ProviderKey(models.Model):
    """An account's own key for a configured LLM provider (BYOK), encrypted at rest.

    Only ``billing.provider_keys`` reads or writes ``ciphertext``; nothing shows the key
    again. The account's calls to the provider use it, and its usage is counted here.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="provider_keys")
    provider = models.CharField(max_length=60)
    ciphertext = models.TextField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    calls = models.PositiveBigIntegerField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=16, decimal_places=6, default=Decimal(0))
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["account__name", "provider"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "provider"], name="provider_key_unique_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account.slug}: {self.provider} key"

    def __repr__(self) -> str:  # never the ciphertext
        return f"<ProviderKey {self.pk} {self.provider}>"


class CreditAccount(models.Model):
    """An account's credits: ``balance`` owned, of which ``held`` is reserved by open holds.

    The spendable amount is ``balance - held``. Both change only in ``billing.ledger``.
    """

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="credits")
    balance = _money(default=Decimal("0"))
    held = _money(default=Decimal("0"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="credits_balance_not_negative"
            ),
            models.CheckConstraint(condition=Q(held__gte=0), name="credits_held_not_negative"),
            models.CheckConstraint(
                condition=Q(held__lte=F("balance")), name="credits_held_within_balance"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.balance} ({self.held} held)"

    @property
    def available(self) -> Decimal:
        return self.balance - self.held


class Hold(models.Model):
    """Credits reserved for one piece of work until it is settled or released."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        SETTLED = "settled", "Settled"
        RELEASED = "released", "Released"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    api_key = models.ForeignKey(
        APIKey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="holds",
        db_index=False,  # hold_key_created below serves lookups by key
        help_text="The key whose call made the hold: it counts against the key's budget.",
    )
    amount = _money()
    reference = models.CharField(max_length=100)  # indexed: Meta
    memo = models.CharField(max_length=200, blank=True)
    request_bound = models.BooleanField(
        default=False,
        help_text="Closed within the request that made it (an evaluation or a scan): still "
        "open past the web timeout, its request was killed.",
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    used = _money(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "created_at"], name="hold_state_created"),
            models.Index(fields=["api_key", "created_at"], name="hold_key_created"),
            models.Index(fields=["reference"], name="hold_reference"),  # matched whole
        ]

    def __str__(self) -> str:
        return f"hold {self.amount} for {self.reference} ({self.state})"


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def lines(self, *, kind: str = "") -> models.QuerySet[Any]:
        """Group the entries into the ledger's lines, newest first, in the database.

        The hold, charge and release of one call (a run or an evaluation, one reference)
        fold into one line; every other entry (grant, purchase, adjustment, refund) is a
        line of its own. Each line is a dict: ``line_reference`` (None for a lone entry),
        ``line_entry`` (None for a call), ``last_id``, ``at``, ``net`` (what it changed the
        balance by), ``held`` (what it still holds) and ``entries``. ``kind`` keeps the
        lines that have an entry of that kind.
        """
        in_call = Q(hold__isnull=False) & ~Q(reference="")
        lines = (
            self.annotate(
                line_reference=Case(When(in_call, then=F("reference")), default=None),
                line_entry=Case(When(in_call, then=None), default=F("id")),
            )
            .values("line_reference", "line_entry")
            .annotate(
                last_id=Max("id"),
                at=Max("created_at"),
                net=Sum("amount"),
                held=Sum("held_change"),
                entries=Count("id"),
            )
        )
        if kind:
            lines = lines.annotate(of_kind=Count("id", filter=Q(kind=kind))).filter(of_kind__gt=0)
        return lines.order_by("-last_id")

    def in_lines(self, lines: Iterable[Mapping[str, Any]]) -> LedgerEntryQuerySet:
        """Return the entries that make up the given ``lines()`` rows."""
        lines = list(lines)
        references = [line["line_reference"] for line in lines if line["line_reference"]]
        ids = [line["line_entry"] for line in lines if line["line_entry"] is not None]
        in_call = Q(hold__isnull=False) & ~Q(reference="")
        return self.filter((in_call & Q(reference__in=references)) | Q(id__in=ids))

    def update(self, **kwargs: Any) -> int:
        raise TypeError("Ledger entries are append-only.")

    def delete(self) -> Any:
        raise TypeError("Ledger entries are append-only.")


class LedgerEntry(models.Model):
    """One append-only change to an account's credits.

    ``amount`` changes the balance (the entries sum to it); ``held_change`` changes the
    held part (a hold's entries sum to zero there). A hold is ``held_change=+x``, its
    charge ``amount=-used, held_change=-used``, its release ``held_change=-(x-used)``.
    """

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        PURCHASE = "purchase", "Purchase"
        CHARGE = "charge", "Charge"
        HOLD = "hold", "Hold"
        RELEASE = "release", "Release"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"

    account = models.ForeignKey(  # indexed by ledger_account_recent (account, -id)
        Account, on_delete=models.PROTECT, related_name="ledger_entries", db_index=False
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = _money(default=Decimal("0"))
    held_change = _money(default=Decimal("0"))
    balance_after = _money()
    held_after = _money(default=Decimal("0"))
    hold = models.ForeignKey(
        Hold, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    reference = models.CharField(max_length=100, blank=True)  # indexed: Meta
    memo = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ledger entries"
        # a reference is matched whole, never by prefix: a plain index (a field's own
        # db_index would add a second, pattern-matching one on PostgreSQL)
        indexes = [
            models.Index(fields=["account", "-id"], name="ledger_account_recent"),
            models.Index(fields=["reference"], name="ledger_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} → {self.balance_after}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert the entry; an existing entry is never changed."""
        if not self._state.adding:
            raise TypeError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Ledger entries are append-only.")


class RateCounter(models.Model):
    """A rate-limit window's count, when the cache cannot count atomically (no Redis).

    ``billing.ratelimit`` is the only writer: one atomic upsert per request, so every
    worker and node sharing the database shares the count.
    """

    name = models.CharField(max_length=80, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.FloatField(help_text="Unix seconds after which the row may go.")

    def __str__(self) -> str:
        return f"{self.name}: {self.count}"
