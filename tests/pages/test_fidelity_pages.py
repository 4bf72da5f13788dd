"""The run detail and the review item show each version's fidelity and what it lost."""

from __future__ import annotations

import pytest
from django.urls import reverse

from regen import engines
from regen.models import ReviewItem
from tests.engine.fakes import ScriptedRegenerator

pytestmark = pytest.mark.django_db

VAGUE = "Health matters. Taking care of yourself is always a good idea."
REFUSAL = "I'm sorry, but I can't help with that request."
FEVER = (
    "To lower a fever in adults, drink plenty of water and rest; Paracetamol also helps. "
    "Take 500mg of medication Y twice daily."
)


def _scripted(monkeypatch, *outputs):
    versions = ScriptedRegenerator(list(outputs))
    monkeypatch.setattr(engines, "_embedded_regenerator", lambda: versions)


def test_the_run_detail_shows_fidelity_beside_the_score_and_what_was_lost(
    login, alice, make_run, monkeypatch
):
    _scripted(monkeypatch, VAGUE)
    run = make_run(FEVER, max_regenerations=1, thresholds={"min_fidelity": 0.8})
    html = login(alice).get(reverse("run-detail", args=[run.id])).content.decode()

    assert 'class="fidelity low"' in html
    assert "Lost from the original:" in html
    assert '<span class="lost-fact">Paracetamol</span>' in html
    assert '<span class="lost-fact">500</span>' not in html  # the dosage had to go
    assert "(at least 0.80)" not in html  # the original stayed the best version


def test_the_run_detail_flags_a_refusal(login, alice, make_run, monkeypatch):
    _scripted(monkeypatch, REFUSAL)
    run = make_run(max_regenerations=1)
    html = login(alice).get(reverse("run-detail", args=[run.id])).content.decode()

    assert '<span class="badge failed">refusal</span>' in html
    assert run.best_iteration == 0


def test_the_review_item_shows_the_fidelity_of_the_version_under_review(
    login, bob, make_run, monkeypatch
):
    _scripted(monkeypatch, VAGUE)
    run = make_run(
        FEVER,
        max_regenerations=1,
        thresholds={"overall": {"score": 9.9}},
        policy_hint={"on_failure": "human_review"},
    )
    item = ReviewItem.objects.get(run=run)
    assert run.best_iteration == 1
    html = login(bob).get(reverse("review-detail", args=[item.id])).content.decode()

    assert "The version under review: iteration 1" in html
    assert "Fidelity " in html
    assert "Lost from the original:" in html
