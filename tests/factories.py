"""factory_boy factories. Billing objects are created through the domain functions
where those keep an invariant (an API key's hash, an account's credit account)."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import factory
from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils.text import slugify

from billing import keys, ledger
from billing.models import Account, APIKey, Membership, Plan, Project


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
