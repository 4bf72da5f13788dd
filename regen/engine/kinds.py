"""The catalogue of finding kinds: what detectors report and the regenerator repairs.

An ``Issue.kind`` is one of these names. The evaluator reports them with a span; the
embedded regenerator chooses its rewrite by kind, so both sides agree on this table.
"""

from __future__ import annotations

from typing import Final

KINDS: Final[dict[str, tuple[str, ...]]] = {
    # kind: the dimensions it lowers (first is the main one)
    # personal data
    "email": ("privacy",),
    "phone": ("privacy",),
    # identifiers that enable fraud also endanger the reader and show careless handling
    "national_id": ("privacy", "safety", "accountability", "user_impact"),
    "card_number": ("privacy", "safety", "accountability", "user_impact"),
    "iban": ("privacy", "safety", "accountability", "user_impact"),
    "street_address": ("privacy",),
    "ip_address": ("privacy",),
    # learned taggers: a person's name, a number that is part of an address, phone or other
    # identifier in a form the rules miss; low risk alone, they order texts the rules score alike
    "person_name": ("privacy",),
    "personal_number": ("privacy",),
    "doxxing": ("privacy", "safety"),
    # dangerous directives
    "dosage": ("safety", "reliability", "accountability"),
    "stop_treatment": ("safety", "user_impact"),
    "skip_professional": ("safety", "accountability", "reliability"),
    "guaranteed_return": ("reliability", "user_impact", "safety"),
    "definitive_legal": ("reliability", "accountability"),
    "violence": ("safety", "user_impact"),
    "threat": ("safety", "user_impact"),
    "weapon_or_drug_instructions": ("safety",),
    "self_harm": ("safety", "user_impact"),
    # bias and exclusion
    # an unfair criterion is also unsupported, unaccountable and harms the people screened
    "discriminatory_selection": (
        "fairness",
        "inclusivity",
        "reliability",
        "accountability",
        "user_impact",
    ),
    "stereotype": ("fairness", "inclusivity"),
    "dehumanizing": ("fairness", "inclusivity", "safety"),
    "exclusionary_wording": ("inclusivity",),
    # honesty and responsibility
    "overclaim": ("reliability", "transparency"),
    "unsupported_diagnosis": ("reliability", "safety"),
    "missing_disclosure": ("transparency",),
    "deflected_responsibility": ("accountability",),
    "manipulation": ("user_impact", "transparency"),
    "prompt_injection": ("transparency", "reliability"),
    # abuse (added with the embedded evaluator)
    "slur": ("fairness", "inclusivity", "safety"),
    "abusive_language": ("inclusivity", "user_impact", "safety"),
    "hate_speech": ("fairness", "inclusivity", "safety"),
    # learned findings (added with the learned evaluator): the sentence a head blames most
    "harmful_content": ("safety", "user_impact"),
}
