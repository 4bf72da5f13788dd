"""One partial rule for every page: an htmx swap gets the partial, a history restore the page.

Each page that has a partial answers with ``Vary: HX-Request`` whichever it sends, so a
cache never serves the partial for the page or the page for the partial.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

SWAP = {"HX-Request": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


@pytest.fixture
def pages(project_a, make_run):
    run = make_run()
    return [
        reverse("keys"),
        reverse("credits"),
        reverse("project-edit", args=[project_a.pk]),
        reverse("runs"),
        reverse("run-detail", args=[run.id]),
        reverse("review-queue"),
        reverse("playground"),
    ]


def test_every_page_varies_on_hx_request_and_restores_whole(login, alice, pages):
    client = login(alice)
    for url in pages:
        whole = client.get(url)
        restored = client.get(url, headers=RESTORE)
        assert whole.status_code == restored.status_code == 200, url
        assert "HX-Request" in whole["Vary"], url
        assert "HX-Request" in restored["Vary"], url
        assert "<html" in restored.content.decode(), url


def test_an_htmx_swap_gets_no_page_shell(login, alice, pages):
    client = login(alice)
    # the runs list has no partial; a finished run's detail tells htmx to reload instead
    for url in [url for url in pages if "/runs/" not in url]:
        swapped = client.get(url, headers=SWAP)
        assert swapped.status_code == 200, url
        assert "<html" not in swapped.content.decode(), url
        assert "HX-Request" in swapped["Vary"], url


def test_no_page_prints_template_syntax(login, alice, pages):
    """A ``{# ... #}`` comment spanning lines is printed as text by Django's templates."""
    client = login(alice)
    for url in pages:
        body = client.get(url).content.decode()
        body = re.sub(r"<script\b.*?</script>", "", body, flags=re.DOTALL)  # charts' JSON
        for syntax in ("{#", "#}", "{%", "%}", "{{", "}}"):
            assert syntax not in body, (url, syntax)
