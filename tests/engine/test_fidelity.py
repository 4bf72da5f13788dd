"""Meaning preservation: a refusal, a vague rewrite and a faithful rewrite (issue 15)."""

import time

from regen.engine.fidelity import REFUSAL_CAP, extract_facts, measure_fidelity
from regen.engine.types import Span

ORIGINAL = (
    "To lower a fever in adults, drink plenty of water and rest; Paracetamol helps, but "
    "do not take more than 4 grams a day. See a doctor if the fever lasts more than "
    "3 days or rises above 39.5 degrees."
)
FAITHFUL = (
    "For a fever in adults, rest and drink plenty of water; Paracetamol can help, but do not "
    "take more than 4 grams a day. If the fever lasts more than 3 days or goes above "
    "39.5 degrees, see a doctor."
)
VAGUE = "Feeling unwell is common. Taking care of your health is always a good idea."
REFUSAL = "I'm sorry, but I can't help with that request."
DOSAGE = "Take 500mg of ibuprofen every four hours for the pain in your knee."


def test_a_faithful_rewrite_keeps_the_meaning_and_every_fact():
    fidelity = measure_fidelity(ORIGINAL, FAITHFUL)

    assert fidelity.score >= 0.9
    assert fidelity.lost == ()
    assert fidelity.refusal is False


def test_a_vague_rewrite_scores_low_and_names_what_it_lost():
    fidelity = measure_fidelity(ORIGINAL, VAGUE)

    assert fidelity.score < 0.4
    assert fidelity.refusal is False
    assert {"4", "3", "39.5", "Paracetamol"} <= set(fidelity.lost)
    assert "not … take" in fidelity.lost


def test_a_refusal_is_flagged_and_scores_at_most_the_cap():
    fidelity = measure_fidelity(ORIGINAL, REFUSAL)

    assert fidelity.refusal is True
    assert fidelity.score <= REFUSAL_CAP
    assert fidelity.keeps_meaning(None) is False


def test_the_faithful_rewrite_ranks_above_the_vague_one_and_the_refusal():
    faithful, vague, refusal = (measure_fidelity(ORIGINAL, v) for v in (FAITHFUL, VAGUE, REFUSAL))

    assert faithful.score > vague.score > refusal.score


def test_an_empty_answer_scores_zero():
    fidelity = measure_fidelity(ORIGINAL, " ... ")

    assert fidelity.empty is True
    assert fidelity.score == 0.0
    assert fidelity.keeps_meaning(None) is False


def test_a_referral_that_still_answers_is_not_a_refusal():
    original = "You likely have the flu. Take 500mg of medication Y twice daily."
    referral = (
        "I can't diagnose you from a description, but the flu is one possibility. Please "
        "ask a doctor before taking medication Y."
    )
    assert measure_fidelity(original, referral).refusal is False


def test_what_the_failing_dimensions_required_removing_is_not_counted_as_lost():
    start = DOSAGE.index("500mg")
    removed = (Span(start, start + len("500mg of ibuprofen every four hours")),)
    rewrite = "Ask a pharmacist which pain relief is safe for the pain in your knee."

    kept = measure_fidelity(DOSAGE, rewrite, removed=removed)
    blamed = measure_fidelity(DOSAGE, rewrite)

    assert "500" not in kept.lost
    assert "500" in blamed.lost
    assert kept.score > blamed.score


def test_a_negation_dropped_is_a_lost_fact():
    original = "Never mix bleach with ammonia: the fumes are toxic."
    flipped = "Mix bleach with ammonia: the fumes are toxic."

    assert "never … bleach" in measure_fidelity(original, flipped).lost


def test_facts_are_numbers_names_negations_and_key_terms():
    kinds = {fact.kind for fact in extract_facts(ORIGINAL)}

    assert kinds == {"number", "name", "negation", "term"}


def test_one_fidelity_computation_takes_well_under_a_millisecond():
    measure_fidelity(ORIGINAL, FAITHFUL)  # load the tables once
    started = time.perf_counter()
    for _ in range(100):
        measure_fidelity(ORIGINAL, FAITHFUL)
    assert (time.perf_counter() - started) / 100 < 0.005
