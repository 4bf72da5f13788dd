"""Plans: the SPEC 5 defaults, and the tier checks (403 INSUFFICIENT_TIER)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from billing.errors import InsufficientTier
from billing.models import Plan
from billing.plans import check_max_regenerations, check_mode_allowed, get_plan


@pytest.mark.parametrize(
    ("slug", "credits", "per_minute", "per_day"),
    [("free", 100, 10, 100), ("pro", 1000, 60, 5000), ("business", 10000, 300, 50000)],
)
def test_the_default_plans_have_the_spec_figures(db, slug, credits, per_minute, per_day):
    plan = Plan.objects.get(slug=slug)
    assert (plan.credits_per_month, plan.requests_per_minute, plan.requests_per_day) == (
        credits,
        per_minute,
        per_day,
    )


def test_the_free_plan_is_basic_only_and_paid_plans_include_deep(db):
    assert get_plan("free").allowed_modes == ["basic"]
    assert not get_plan("free").deep_allowed
    assert all(get_plan(slug).deep_allowed for slug in ("pro", "business", "enterprise"))


def test_a_mode_outside_the_plan_is_refused_with_403(db):
    check_mode_allowed(get_plan("free"), "basic")
    with pytest.raises(InsufficientTier) as caught:
        check_mode_allowed(get_plan("free"), "deep")
    assert caught.value.status == 403
    assert caught.value.body()["code"] == "INSUFFICIENT_TIER"
    check_mode_allowed(get_plan("pro"), "deep")


def test_more_regenerations_than_the_plan_allows_are_refused(db):
    check_max_regenerations(get_plan("free"), 3)
    with pytest.raises(InsufficientTier, match="at most 3"):
        check_max_regenerations(get_plan("free"), 4)
    check_max_regenerations(get_plan("pro"), 5)


def test_an_unknown_plan_is_named_in_the_error(db):
    with pytest.raises(Exception, match="Unknown plan 'gold'"):
        get_plan("gold")


def test_a_plan_must_allow_known_modes(db):
    plan = Plan(
        name="X",
        slug="x",
        credits_per_month=1,
        requests_per_minute=1,
        requests_per_day=1,
        allowed_modes=["fast"],
    )
    with pytest.raises(ValidationError):
        plan.full_clean()
