"""Fixtures for the regen domain: a funded account with a project (alice's)."""

from decimal import Decimal

import pytest

from billing import ledger
from billing.accounts import create_account, create_project
from regen.runs import Caller
from tests.factories import default_plan


@pytest.fixture
def make_caller(db):
    """Make a caller whose account holds ``balance`` credits."""
    made = []

    def make(balance="100", name="Alice Org"):
        account = create_account(name=f"{name} {len(made)}", plan=default_plan("pro"))
        project = create_project(account=account, name="Main")
        if Decimal(balance) > 0:
            ledger.grant(account=account, amount=balance, memo="test credits")
        caller = Caller(account=account, project=project)
        made.append(caller)
        return caller

    return make


@pytest.fixture
def caller(make_caller):
    return make_caller()
