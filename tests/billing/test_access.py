"""Account access: members see their account, outsiders get 404, roles gate actions (T12)."""

from __future__ import annotations

import pytest

from billing import access
from billing.errors import PermissionDenied
from railsite.errors import NotFound
from tests.factories import ProjectFactory, UserFactory


def test_members_see_their_account_and_outsiders_do_not(alice, bob, charlie, account_a):
    assert access.member_of(alice, account_a)
    assert access.member_of(bob, account_a)
    assert not access.member_of(charlie, account_a)


def test_an_outsider_gets_not_found_exactly_as_for_a_missing_account(charlie, account_a):
    with pytest.raises(NotFound) as outsider:
        access.get_account_for(charlie, account_a.slug)
    with pytest.raises(NotFound) as missing:
        access.get_account_for(charlie, "no-such-account")
    assert outsider.value.body() == missing.value.body()


def test_roles_gate_actions_and_staff_may_do_everything(alice, bob, charlie, account_a):
    assert access.require_role(alice, account_a, "admin") == "admin"
    with pytest.raises(PermissionDenied):
        access.require_role(bob, account_a, "admin")
    assert access.require_role(bob, account_a, "admin", "reviewer") == "reviewer"
    with pytest.raises(NotFound):
        access.require_role(charlie, account_a)
    assert access.require_role(UserFactory(is_staff=True), account_a, "admin") == "staff"


def test_lists_hold_only_the_users_accounts_and_projects(alice, charlie, account_a, account_b):
    ProjectFactory(account=account_a, name="Mine")
    ProjectFactory(account=account_b, name="Theirs")
    assert list(access.accounts_for(alice)) == [account_a]
    assert [p.name for p in access.projects_for(alice)] == ["Mine"]
    theirs = access.projects_for(charlie).get()
    with pytest.raises(NotFound):
        access.get_project_for(alice, theirs.pk)


def test_an_anonymous_user_sees_nothing(account_a):
    from django.contrib.auth.models import AnonymousUser

    assert not access.accounts_for(AnonymousUser()).exists()
    assert not access.member_of(AnonymousUser(), account_a)
