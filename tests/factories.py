"""factory_boy factories. Billing objects are created through the domain functions
where those keep an invariant (an API key's hash, an account's credit account)."""

from __future__ import annotations

import datetime as dt
import importlib
import random
from decimal import Decimal
from typing import Any

import factory
from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import slugify

from billing import keys, ledger
from billing.models import Account, APIKey, Membership, Plan, Project
from regen.engine.dimensions import DIMENSIONS
from regen.engine.scoring import aggregate
from regen.engine.types import DimensionScore, RawEvaluation
from regen.models import Run
from regen.whatif import first_columns


def default_plan(slug: str) -> Plan:
    """Return a default plan, re-creating the defaults if a transactional test flushed them."""
    plan = Plan.objects.filter(slug=slug).first()
    if plan is None:
        importlib.import_module("billing.migrations.0002_default_plans").create_plans(apps, None)
        plan = Plan.objects.get(slug=slug)
    return plan


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class PlanFactory(factory.django.DjangoModelFactory):
    """A custom plan; the default plans (free, pro, ...) come from the migration."""

    class Meta:
        model = Plan
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Plan {n}")
    slug = factory.LazyAttribute(lambda p: slugify(p.name))
    credits_per_month = 1000
    requests_per_minute = 60
    requests_per_day = 5000
    allowed_modes = factory.LazyFunction(lambda: ["basic", "deep", "auto"])
    max_regenerations = 5


class AccountFactory(factory.django.DjangoModelFactory):
    """An account on the Pro plan; ``credits=N`` grants N credits after creation."""

    class Meta:
        model = Account
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Account {n}")
    slug = factory.LazyAttribute(lambda a: slugify(a.name))
    plan = factory.LazyFunction(lambda: default_plan("pro"))

    @factory.post_generation
    def credits(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            ledger.grant(account=self, amount=Decimal(str(extracted)), memo="test credits")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(AccountFactory)
    role = Membership.Role.ADMIN


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.LazyAttribute(lambda p: slugify(p.name))


class APIKeyFactory(factory.django.DjangoModelFactory):
    """An API key issued by ``billing.keys``; its plaintext is on ``key.raw``."""

    class Meta:
        model = APIKey

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"key {n}")

    @classmethod
    def _create(cls, model_class: type[APIKey], *args: Any, **kwargs: Any) -> APIKey:
        key, raw = keys.issue_key(
            project=kwargs["project"],
            name=kwargs["name"],
            monthly_credit_budget=kwargs.get("monthly_credit_budget"),
        )
        key.raw = raw  # type: ignore[attr-defined]
        return key


def synthetic_runs(caller, count, *, seed=7, now=None):  # type: ignore[no-untyped-def]
    """Store ``count`` finished runs with random iteration-0 scores (no scoring, no credits)."""
    rng = random.Random(seed)
    now = now or timezone.now()
    made = []
    for _ in range(count):
        dims = (
            DIMENSIONS if rng.random() < 0.7 else tuple(rng.sample(DIMENSIONS, rng.randint(1, 7)))
        )
        scores = {
            d: DimensionScore(
                score=rng.choice([rng.uniform(0, 10), rng.uniform(6, 8.5)]),
                confidence=rng.uniform(0.3, 1.0),
            )
            for d in dims
        }
        evaluation = aggregate(
            RawEvaluation(
                scores=scores, engine="llm-fallback" if rng.random() < 0.05 else "embedded"
            )
        )
        max_regenerations = rng.randint(1, 5)
        run = Run(
            account=caller.account,
            project=caller.project,
            request={},
            original_content="x" * 20,
            mode=rng.choice(["basic", "basic", "deep"]),
            external=rng.random() < 0.1,
            status=Run.Status.PASSED,
            max_regenerations=max_regenerations,
            iterations_done=rng.randint(1, max_regenerations + 1),
            credits_consumed=Decimal(rng.randint(1, 20)),
            **first_columns(evaluation),
        )
        made.append(run)
    Run.objects.bulk_create(made)
    # spread over the last ten days (created_at is auto_now_add)
    for i, run in enumerate(made):
        Run.objects.filter(id=run.id).update(created_at=now - dt.timedelta(days=i % 10, hours=1))
    return made
