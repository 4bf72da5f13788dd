"""Management commands: they create what they say, and bad input changes nothing."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from billing import keys, ledger
from billing.models import Account, APIKey, LedgerEntry, Membership, Project
from tests.factories import AccountFactory, ProjectFactory

pytestmark = pytest.mark.django_db
KEY = re.compile(r"rail_[a-z0-9]{12}_[A-Za-z0-9]{46}")


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def snapshot() -> tuple[int, ...]:
    """Count every billing row, to show a failed command changed nothing."""
    models = (Account, Project, APIKey, LedgerEntry, Membership, get_user_model())
    return tuple(model.objects.count() for model in models)


def test_createaccount_creates_the_account_with_its_admin():
    out = run("createaccount", "Acme Inc", "--plan", "business", "--admin-email", "ops@acme.test")
    account = Account.objects.get(slug="acme-inc")
    assert account.plan.slug == "business"
    assert account.memberships.get().role == "admin"
    assert ledger.balance_of(account) == 0
    assert "acme-inc" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Acme", "--plan", "gold"], "Unknown plan 'gold'"),
        (["   ", "--plan", "pro"], "needs a name"),
        (["!!!", "--plan", "pro"], "no usable slug"),
        (["Acme", "--admin-email", "not-an-email"], "not a valid e-mail"),
    ],
)
def test_createaccount_refuses_bad_input_and_changes_nothing(args, message):
    before = snapshot()
    with pytest.raises(CommandError, match=message):
        run("createaccount", *args)
    assert snapshot() == before


def test_createaccount_refuses_a_taken_slug():
    AccountFactory(name="Acme")
    before = snapshot()
    with pytest.raises(CommandError, match="already exists"):
        run("createaccount", "Acme")
    assert snapshot() == before


def test_createproject_creates_a_project_in_the_account():
    account = AccountFactory(name="Acme")
    run("createproject", "--account", "acme", "Web App", "--environment", "staging")
    project = account.projects.get()
    assert (project.slug, project.environment) == ("web-app", "staging")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account", "nope", "Web"], "Unknown account 'nope'"),
        (["--account", "acme", "  "], "needs a name"),
        (["--account", "acme", "Web", "--environment", " "], "environment"),
    ],
)
def test_createproject_refuses_bad_input_and_changes_nothing(args, message):
    AccountFactory(name="Acme")
    before = snapshot()
    with pytest.raises(CommandError, match=message):
        run("createproject", *args)
    assert snapshot() == before


def test_createapikey_prints_a_working_key_once():
    project = ProjectFactory(name="Web")
    out = run("createapikey", "--project", "web", "--name", "ci")
    raw = KEY.search(out)[0]
    assert keys.verify_key(raw).project == project
    assert APIKey.objects.get().name == "ci"


def test_createapikey_refuses_an_unknown_project_or_empty_name():
    ProjectFactory(name="Web")
    before = snapshot()
    with pytest.raises(CommandError, match="Unknown project"):
        run("createapikey", "--project", "nope")
    with pytest.raises(CommandError, match="needs a name"):
        run("createapikey", "--project", "web", "--name", " ")
    assert snapshot() == before


def test_createapikey_asks_for_the_account_when_the_project_slug_is_ambiguous():
    ProjectFactory(name="Web")
    other = ProjectFactory(name="Web")
    with pytest.raises(CommandError, match="--account"):
        run("createapikey", "--project", "web")
    run("createapikey", "--project", "web", "--account", other.account.slug)
    assert APIKey.objects.get().project == other


def test_grantcredits_adds_a_ledger_entry():
    account = AccountFactory(name="Acme")
    out = run("grantcredits", "--account", "acme", "250.50", "--memo", "welcome")
    assert ledger.balance_of(account) == 250.5
    assert LedgerEntry.objects.get().memo == "welcome"
    assert "250.50" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account", "acme", "-5", "--memo", "m"], "must not be negative"),
        (["--account", "acme", "0", "--memo", "m"], "must not be zero"),
        (["--account", "acme", "ten", "--memo", "m"], "not a number"),
        (["--account", "acme", "1.001", "--memo", "m"], "two decimal places"),
        (["--account", "acme", "5", "--memo", " "], "memo is required"),
        (["--account", "nope", "5", "--memo", "m"], "Unknown account"),
    ],
)
def test_grantcredits_refuses_bad_input_and_changes_nothing(args, message):
    AccountFactory(name="Acme")
    before = snapshot()
    with pytest.raises(CommandError, match=message):
        run("grantcredits", *args)
    assert snapshot() == before


def test_seed_demo_creates_a_working_demo_and_a_second_run_keeps_it():
    first = run("seed_demo")
    password = re.search(r"password: (\S+)", first)[1]
    raw = KEY.search(first)[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password(password)
    key = keys.verify_key(raw)
    account = key.project.account
    assert (account.name, account.plan.slug, key.project.slug) == ("Demo", "pro", "demo")
    assert account.memberships.get(user=admin).role == "admin"
    assert ledger.balance_of(account) == 1000

    before = snapshot()
    second = run("seed_demo")
    assert snapshot() == before
    assert "Admin login: admin" in second
    assert ".venv/bin/python manage.py createapikey --project demo" in second
    assert password not in second
    assert not KEY.search(second)
    assert keys.verify_key(raw) == key
