"""Browser tests: the system Chromium driven by Playwright against the live server.

Never ``playwright install``: Chromium comes from Debian's ``chromium`` package
(``.ci/run`` installs it). Screenshots of every page land in docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from billing.models import Membership
from tests.factories import (
    AccountFactory,
    APIKeyFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
)

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the
# test body are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    """Skip the browser tests without the system Chromium (a conftest's ``pytestmark`` is
    ignored by pytest). Under CI=true tests/ci.py stops the run before this matters."""
    if CHROMIUM is not None:
        return
    skip = pytest.mark.skip(reason="needs the system Chromium (apt-get install chromium)")
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def console_errors(page):
    """Collect console errors and uncaught page errors; tests assert there are none."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs  # XSS checks: no alert() may ever open
    return errors


@pytest.fixture
def team(transactional_db):
    """Account A with alice (admin), bob (reviewer) and victor (viewer), a project and a key."""
    account = AccountFactory(name="Acme Health", credits=500)
    project = ProjectFactory(account=account, name="Patient portal")
    people = {}
    for name, role in (
        ("alice", Membership.Role.ADMIN),
        ("bob", Membership.Role.REVIEWER),
        ("victor", Membership.Role.VIEWER),
    ):
        people[name] = MembershipFactory(
            user=UserFactory(username=name, password=PASSWORD), account=account, role=role
        ).user
    key = APIKeyFactory(project=project)
    return {"account": account, "project": project, "key": key, **people}


@pytest.fixture
def login(page, live_server):
    """Log a persona in through the real form."""

    def go(username: str) -> None:
        page.goto(f"{live_server.url}/login/")
        page.fill('input[name="username"]', username)
        page.fill('input[name="password"]', PASSWORD)
        page.click('button[type="submit"]')
        page.wait_for_load_state("networkidle")

    return go


@pytest.fixture
def shot(page):
    """Save a full-page screenshot under docs/screenshots/<name>.png."""

    def take(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
