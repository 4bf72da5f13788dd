"""Runs of the loop, their iterations, and the human-review queue (SPEC 3, 6).

Only ``regen/runs.py`` and ``regen/reviews.py`` change these rows (``regen/comparisons.py``
the A/B comparisons that replay runs).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.db import models
from django.db.models import Avg, Count, FloatField, Q, Sum
from django.db.models.functions import Cast, NullIf, TruncDate


class RunQuerySet(models.QuerySet["Run"]):
    def of_account(self, account: Any) -> RunQuerySet:
        return self.filter(account=account)

    def finished(self) -> RunQuerySet:
        return self.filter(status__in=Run.FINAL_STATUSES)

    def per_day(self) -> list[dict[str, Any]]:
        """Aggregate the runs per day in the database: how many, the pass rate among the
        finished (%), the mean iterations and the credits charged."""
        finished = Count("id", filter=Q(status__in=Run.FINAL_STATUSES))
        passed = Count("id", filter=Q(status=Run.Status.PASSED))
        # values() rows; "iterations" also names Run's relation, which the stubs' plugin rejects
        rows = (
            cast(Any, self)
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(
                runs=Count("id"),
                pass_rate=100.0
                * Cast(passed, FloatField())
                / NullIf(Cast(finished, FloatField()), 0.0),
                iterations=Avg("iterations_done"),
                credits=Cast(Sum("credits_consumed"), FloatField()),
            )
            .order_by("day")
        )
        return list(rows)

    def replayed(self, *, thresholds: Any, weights: Any) -> list[dict[str, Any]]:
        """Count these runs per day and what-if outcome (pass, regenerate, review) under
        other thresholds and weights, with what prices them: one statement over the
        stored iteration-0 scores (``regen.whatif``)."""
        from regen.whatif import replay_rows

        return replay_rows(self, thresholds=thresholds, weights=weights)


class Run(models.Model):
    """One safe-regenerate (or eval) request: what was asked, what it cost, how it ended."""

    class Kind(models.TextChoices):
        SAFE_REGENERATE = "safe_regenerate", "Safe regenerate"
        EVAL = "eval", "Evaluation"
        EVALGUARD = "evalguard", "EvalGuard safe regenerate"
        COMPARISON = "comparison", "A/B comparison replay"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        AWAITING_REGENERATION = "awaiting_regeneration", "Awaiting regeneration"
        PASSED = "passed", "Passed"
        MAX_ITERATIONS_REACHED = "max_iterations_reached", "Max iterations reached"
        NO_IMPROVEMENT = "no_improvement", "No improvement"
        BUDGET_EXHAUSTED = "budget_exhausted", "Budget exhausted"
        CRITICAL = "critical", "Critical content"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    FINAL_STATUSES = (
        "passed",
        "max_iterations_reached",
        "no_improvement",
        "budget_exhausted",
        "critical",
        "failed",
        "expired",
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # account, project and api_key lead composite indexes (Meta), so none has its own:
    # every index is one more write per run
    account = models.ForeignKey(
        "billing.Account", on_delete=models.CASCADE, related_name="runs", db_index=False
    )
    project = models.ForeignKey(
        "billing.Project",
        on_delete=models.CASCADE,
        related_name="runs",
        null=True,
        blank=True,
        db_index=False,
    )
    api_key = models.ForeignKey(
        "billing.APIKey",
        on_delete=models.SET_NULL,
        related_name="runs",
        null=True,
        blank=True,
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SAFE_REGENERATE)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.QUEUED)
    mode = models.CharField(max_length=8, default="basic")
    domain = models.CharField(max_length=20, default="general")
    regeneration_model = models.CharField(max_length=200, blank=True)
    prompt_version = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The prompt template version this run must use (an A/B arm's); "
        "null: the project's current one.",
    )
    external = models.BooleanField(default=False)
    # null, not "": unique among the runs that have one (Meta)
    session_id = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    expires_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(
        default=0, help_text="Bumped by every step; guards races."
    )

    request = models.JSONField(help_text="The validated request, canonical field names.")
    original_content = models.TextField()
    best_content = models.TextField(blank=True)
    best_iteration = models.PositiveSmallIntegerField(null=True, blank=True)
    best_score = models.FloatField(null=True, blank=True)
    iterations_done = models.PositiveSmallIntegerField(default=0)
    max_regenerations = models.PositiveSmallIntegerField(default=3)
    loop_state = models.JSONField(null=True, blank=True, help_text="External sessions only.")
    response = models.JSONField(null=True, blank=True, help_text="The body the caller got.")
    error = models.TextField(blank=True)

    hold = models.ForeignKey(
        "billing.Hold", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    credits_held = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    credits_consumed = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    credits_breakdown = models.JSONField(default=dict, blank=True)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal("0"))
    llm_calls = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    total_latency_ms = models.FloatField(default=0.0)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Task deliveries claimed.")
    lease_token = models.UUIDField(
        null=True, blank=True, help_text="The executor that holds the run (regen.runs._claim)."
    )
    lease_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Renewed by every stored iteration; past it, the executor is dead.",
    )

    # Iteration 0's evaluation, flattened for the threshold what-if (regen.whatif): one
    # SQL aggregation replays these against other thresholds without reading the JSON.
    # Null: the dimension was not evaluated, or the run has no scored version yet.
    first_fairness = models.FloatField(null=True, blank=True)
    first_fairness_confidence = models.FloatField(null=True, blank=True)
    first_safety = models.FloatField(null=True, blank=True)
    first_safety_confidence = models.FloatField(null=True, blank=True)
    first_reliability = models.FloatField(null=True, blank=True)
    first_reliability_confidence = models.FloatField(null=True, blank=True)
    first_transparency = models.FloatField(null=True, blank=True)
    first_transparency_confidence = models.FloatField(null=True, blank=True)
    first_privacy = models.FloatField(null=True, blank=True)
    first_privacy_confidence = models.FloatField(null=True, blank=True)
    first_accountability = models.FloatField(null=True, blank=True)
    first_accountability_confidence = models.FloatField(null=True, blank=True)
    first_inclusivity = models.FloatField(null=True, blank=True)
    first_inclusivity_confidence = models.FloatField(null=True, blank=True)
    first_user_impact = models.FloatField(null=True, blank=True)
    first_user_impact_confidence = models.FloatField(null=True, blank=True)
    first_degraded = models.BooleanField(
        default=False, help_text="Iteration 0 was scored by a fallback engine: it never passes."
    )
    first_critical = models.BooleanField(
        null=True, blank=True, help_text="Iteration 0 was critical; null: not scored yet."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="run_account_recent"),
            models.Index(fields=["project", "-created_at"], name="run_project_recent"),
            models.Index(fields=["account", "status", "-created_at"], name="run_account_status"),
            models.Index(fields=["api_key", "-created_at"], name="run_key_recent"),
        ]
        constraints = [  # sessions only: a run without one writes no entry
            models.UniqueConstraint(
                fields=["session_id"],
                condition=models.Q(session_id__isnull=False),
                name="run_session_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def req_id(self) -> str:
        return str(self.id)

    @property
    def answer(self) -> dict[str, Any]:
        """The body the caller got: every run that answered has one."""
        if self.response is None:
            raise ValueError(f"Run {self.id} has not answered yet.")
        return self.response

    @property
    def session_state(self) -> dict[str, Any]:
        """An external session's loop state: every session has one."""
        if self.loop_state is None:
            raise ValueError(f"Run {self.id} is not an external session.")
        return self.loop_state

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    def best_version(self) -> Iteration | None:
        """Return the stored iteration the run chose as its best, if it has one."""
        if self.best_iteration is None:
            return None
        return self.iterations.filter(index=self.best_iteration).first()


LOW_FIDELITY = 0.5
"""Pages flag a version that keeps less than this of the original."""


class Iteration(models.Model):
    """One scored version of a run's text."""

    run = models.ForeignKey(  # indexed by iteration_unique_index (run, index)
        Run, on_delete=models.CASCADE, related_name="iterations", db_index=False
    )
    index = models.PositiveSmallIntegerField()
    content = models.TextField()
    score = models.FloatField()
    confidence = models.FloatField()
    evaluation = models.JSONField(help_text="Per-dimension scores, explanations and issues.")
    thresholds_met = models.JSONField()
    passed = models.BooleanField()
    failing_dimensions = models.JSONField(default=list)
    improvement_from_previous = models.FloatField(default=0.0)
    rail_prompt = models.JSONField(null=True, blank=True)
    regeneration_model = models.CharField(max_length=200, blank=True)
    prompt_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The prompt template version of rail_prompt (0: built-in)."
    )
    eval_latency_ms = models.FloatField(default=0.0)
    regen_latency_ms = models.FloatField(default=0.0)
    credits = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal("0"))
    fidelity = models.FloatField(
        null=True, blank=True, help_text="Meaning kept from the original, 0-1 (issue 15)."
    )
    fidelity_detail = models.JSONField(
        null=True, blank=True, help_text="Meaning and facts kept, refusal, what was lost."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="iteration_unique_index"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} #{self.index}"

    @property
    def latency_ms(self) -> float:
        return round(self.eval_latency_ms + self.regen_latency_ms, 3)

    @property
    def engine(self) -> str:
        """Name the engine that scored this version (a cascade's embedded scorer or judge)."""
        evaluation = self.evaluation if isinstance(self.evaluation, dict) else {}
        return str(evaluation.get("engine", "embedded"))

    @property
    def fidelity_lost(self) -> list[str]:
        """Name what this version dropped of the original (numbers, names, key terms)."""
        return [str(fact) for fact in (self.fidelity_detail or {}).get("lost", [])]

    @property
    def is_refusal(self) -> bool:
        return bool((self.fidelity_detail or {}).get("refusal"))

    @property
    def fidelity_low(self) -> bool:
        """Say whether the version lost the meaning: a refusal, or under half kept."""
        return self.fidelity is not None and (self.is_refusal or self.fidelity < LOW_FIDELITY)


def fingerprint(text: str) -> str:
    """Identify a text up to case, spacing and punctuation (near-duplicates share it)."""
    words = re.findall(r"\w+", text.lower())
    return hashlib.sha1(" ".join(words).encode()).hexdigest()


class ReviewItemQuerySet(models.QuerySet["ReviewItem"]):
    def pending_first(self) -> ReviewItemQuerySet:
        """Urgent work first: pending before decided; among pending, critical before
        on-failure, then the oldest first; decided items, the latest first."""
        pending = models.Case(
            models.When(state="pending", then=0), default=1, output_field=models.IntegerField()
        )
        urgent = models.Case(
            models.When(state="pending", reason="critical", then=0),
            default=1,
            output_field=models.IntegerField(),
        )
        waiting_since = models.Case(
            models.When(state="pending", then=models.F("created_at")),
            default=None,
            output_field=models.DateTimeField(),
        )
        return self.annotate(_pending=pending, _urgent=urgent, _waiting=waiting_since).order_by(
            "_pending", "_urgent", models.F("_waiting").asc(nulls_last=True), "-created_at"
        )


class ReviewItem(models.Model):
    """Content a person must decide on: critical content or a failed run sent to review."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        REWRITTEN = "rewritten", "Rewritten"

    class Reason(models.TextChoices):
        CRITICAL = "critical", "Critical content"
        ON_FAILURE = "on_failure", "Failed run sent to review"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(
        "billing.Account", on_delete=models.CASCADE, related_name="review_items"
    )
    project = models.ForeignKey(
        "billing.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey(
        "billing.APIKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="review_item")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    content = models.TextField()
    score = models.FloatField()
    evaluation = models.JSONField()
    failing_dimensions = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by_key = models.ForeignKey(
        "billing.APIKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    rewritten_content = models.TextField(blank=True)
    rewritten_evaluation = models.JSONField(null=True, blank=True)
    content_key = models.CharField(
        max_length=40,
        blank=True,
        db_index=True,
        help_text="The content's fingerprint (case, spacing and punctuation aside): items "
        "with the same one are near-duplicates, decided together if the reviewer asks.",
    )
    assigned_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The holder's lock on the item ends then (work mode); others may then take it.",
    )
    rewrite_override = models.BooleanField(
        default=False,
        help_text="The rewrite was saved below the run's thresholds, by an explicit override.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReviewItemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["account", "state", "-created_at"], name="review_account_state"),
        ]

    def __str__(self) -> str:
        return f"review {self.id} ({self.state})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.content_key:
            self.content_key = fingerprint(self.content)
        super().save(*args, **kwargs)

    @property
    def served_content(self) -> str | None:
        """What the caller may serve now: the approved text, the rewrite, or nothing."""
        if self.state == self.State.APPROVED:
            return self.content
        if self.state == self.State.REWRITTEN:
            return self.rewritten_content
        return None

    def decision_block(self) -> dict[str, Any]:
        """The item as a run's job status reports it: its state and, once decided, the
        decision and what may be served."""
        return {
            "review_id": str(self.id),
            "state": self.state,
            "reason": self.reason,
            "decision_reason": self.decision_reason or None,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "served_content": self.served_content,
        }


class PromptTemplate(models.Model):
    """One saved version of a project's improvement-prompt templates (version 0, the
    built-in, is not stored and cannot be deleted). Only ``regen/prompt_templates.py``
    writes these rows; ``current`` marks the version the project uses (none: the built-in)."""

    project = models.ForeignKey(
        "billing.Project", on_delete=models.CASCADE, related_name="prompt_templates"
    )
    version = models.PositiveIntegerField()
    system_template = models.TextField()
    user_template = models.TextField()
    current = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="prompt_template_version"),
            models.UniqueConstraint(
                fields=["project"], condition=models.Q(current=True), name="prompt_template_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.version}"


class IdempotencyRecord(models.Model):
    """A POST made with an ``Idempotency-Key``: its body's hash and the answer it got."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    account = models.ForeignKey("billing.Account", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    path = models.CharField(max_length=200)
    body_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.TextField(
        blank=True, help_text="The rendered JSON answer, replayed byte for byte."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="idempotency_unique_key"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class WebhookDelivery(models.Model):
    """One event POSTed to a project's webhook, retried with back-off until it is accepted."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "billing.Project", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    event = models.CharField(max_length=40)
    url = models.URLField(max_length=500)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.event} -> {self.url} ({self.state})"


class Comparison(models.Model):
    """A regenerator A/B: a project's last failing inputs replayed through two arms (a
    champion and a challenger, each a regenerator model and a prompt template version).

    Each replay is an ordinary run (``Run.Kind.COMPARISON``) with its own hold, opened
    when the job reaches its pair; only ``regen/comparisons.py`` writes these rows.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    FINAL_STATUSES = ("finished", "failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(
        "billing.Account", on_delete=models.CASCADE, related_name="comparisons"
    )
    project = models.ForeignKey(
        "billing.Project", on_delete=models.CASCADE, related_name="comparisons"
    )
    api_key = models.ForeignKey(
        "billing.APIKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    champion = models.JSONField(help_text="The arm: regeneration_model and prompt_version.")
    challenger = models.JSONField(help_text="The arm: regeneration_model and prompt_version.")
    inputs_asked = models.PositiveIntegerField(help_text="N: the last N failing inputs.")
    pairs_total = models.PositiveIntegerField(default=0)
    pairs_done = models.PositiveIntegerField(default=0)
    credits_worst_case = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), help_text="Priced at the start."
    )
    usd_worst_case = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal("0"))
    report = models.JSONField(null=True, blank=True, help_text="Stored once, when it ends.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    touched_at = models.DateTimeField(
        null=True, blank=True, help_text="Last progress of its job (stale after a long silence)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="comparison_account_recent"),
        ]

    def __str__(self) -> str:
        return f"comparison {self.id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def percent_done(self) -> int:
        return round(100 * self.pairs_done / self.pairs_total) if self.pairs_total else 100


class ComparisonPair(models.Model):
    """One failing input of a comparison and its replay through each arm."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="pairs")
    index = models.PositiveIntegerField()
    source_run = models.ForeignKey(
        Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    request = models.JSONField(help_text="The failing run's request, as it was replayed.")
    champion_run = models.ForeignKey(
        Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    challenger_run = models.ForeignKey(
        Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    """Both opened together (each with its hold) when the job reaches the pair."""

    class Meta:
        ordering = ["comparison", "index"]
        constraints = [
            models.UniqueConstraint(fields=["comparison", "index"], name="comparison_pair_index"),
        ]

    def __str__(self) -> str:
        return f"{self.comparison_id} #{self.index}"
