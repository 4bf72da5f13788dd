"""Harm to people: violence and incitement, self-harm encouragement, dangerous how-tos."""

from __future__ import annotations

import re
from typing import Final

from .base import REFUSAL, Finding, clause_before, is_counter_speech, is_negated, sentence_at
from .groups import GROUP

_HARM_VERB: Final = (
    r"kill|murder|shoot|stab|beat(?: up)?|attack|hurt|assault|lynch|hang|burn|bomb|gas|"
    r"exterminate|eliminate|wipe out|slaughter|massacre|execute|behead|torture|rape|poison|"
    r"punch|strangle|choke|run over|harm|destroy"
)
_PERSON: Final = (
    r"him|her|them|people|everyone|everybody|anyone|somebody|someone|my (?:neighbou?r|wife|"
    r"husband|boss|ex|sister|brother|mother|father|mom|dad|teacher|classmate|roommate|"
    r"coworker|co-worker|friend|girlfriend|boyfriend)|(?:a|the|this|that) (?:person|man|woman|"
    r"child|kid|guy|girl|boy|cop|officer|judge|politician|president|senator|journalist)|"
    r"all (?:of )?(?:them|those|these)|(?:those|these) (?:people|animals|scum)|" + GROUP
)
_THINGS: Final = (
    r"process(?:es)?|tasks|jobs|threads|programs|apps|applications|servers|containers|pods|"
    r"services|sessions|connections|tabs|windows|lights|engines|bugs|weeds|germs|pests|"
    r"calories|bridges|boats|candles|logs|leaves|files|photos|pictures|ships|notes|books|"
    r"lyrics|costs|prices|odds|its|this|that|his|hers|was|is|has|does|goes"
)
"""Objects of "kill all", "burn the" and the like that are not people ("kill all python
processes", "burn the calories")."""
_VIOLENCE: Final = re.compile(
    r"\b(?:" + _HARM_VERB + r")\s+(?:all\s+(?:the\s+)?|every\s+|the\s+|those\s+|these\s+)?"
    r"(?:" + _PERSON + r")\b|"
    r"\b(?:" + GROUP + r"|they|he|she|them|those people)\s+(?:should|must|need to|ought to|"
    r"deserve to|have to)\s+(?:all\s+)?(?:be\s+)?(?:killed|shot|hanged|hung|executed|"
    r"exterminated|wiped out|gassed|burned|lynched|beaten|eliminated|die|dead|destroyed|"
    r"deported and shot|put down)\b|"
    r"\b(?:make|see|watch|let)\s+(?:all\s+)?(?:those\s+|these\s+|the\s+)?(?:" + GROUP + r")\s+"
    r"(?:suffer|die|burn|bleed|pay)\b|"
    r"\b(?:death to|kill all|gas the|hang the|shoot the|burn the)\s+(?:(?:all|the|those|these)\s+)?"
    r"(?!(?:" + _THINGS + r")\b)(?:" + _PERSON + r"|\w+s)\b|"
    r"\b(?:deserve|deserves) to (?:die|be (?:killed|shot|raped|beaten|hurt))\b",
)
_WEAK_VERBS: Final = frozenset(
    {"hurt", "harm", "attack", "destroy", "burn", "poison", "hang", "gas", "beat", "punch", "bomb"}
)
_INCITEMENT: Final = re.compile(
    r"\b(?:let'?s|go|we (?:should|must|need to|have to)|you (?:should|must)|everyone should|"
    r"it's time to|time to|i will|i'm going to|i'll|gonna)\b",
)
_DISAPPROVED: Final = re.compile(
    # "it is never ethical to eliminate people", "you don't have the right to murder someone"
    r"\b(?:is|are|it's|it is|that's|was)\s+(?:never|not|n't)\s+(?:\w+\s+){0,2}?(?:ethical|okay|ok|"
    r"acceptable|appropriate|right|justified|justifiable|legal|allowed|permissible)\b[^.!?]{0,30}"
    r"\bto\s+(?:\w+ly\s+)?$|(?:\bno|\bnot|n't|\bnever) (?:\w+ )?(?:have|has|had) (?:the |a |any )?"
    r"right to\s+(?:\w+ly\s+)?$|"
    r"\b(?:is|are|it's|it is|was) (?:wrong|illegal|a crime|criminal|unacceptable|immoral) to\s+"
    r"(?:\w+ly\s+)?$"
)
"""A sentence that forbids the violence it names."""
_SUBJECT_FORM: Final = re.compile(
    r"(?:[\w ]+\s+)?(?:should|must|need to|ought to|deserves? to|have to)\b"
)
_NO_SUBJECT: Final = re.compile(r"(?:^|[,;:]\s*|\b)(?:no|nobody|no one|none of)\b[^,;:]{0,30}$")
"""A negated subject: "No trans person deserves to die", "nobody should be killed"."""
_WORD: Final = re.compile(r"[a-z]+")
# every violence match holds one of these words: a cheap test before the costly pattern
# (the particles of "beat up", "wipe out", "run over" are left out: each of those phrases
# also holds its verb, and common prose is full of "up", "out" and "over")
_VIOLENCE_WORDS: Final = frozenset(
    re.findall(r"[a-z]+", _HARM_VERB)
    + [
        "killed",
        "shot",
        "hanged",
        "hung",
        "executed",
        "exterminated",
        "wiped",
        "gassed",
        "burned",
        "lynched",
        "beaten",
        "eliminated",
        "die",
        "dead",
        "destroyed",
        "deported",
        "put",
        "death",
        "suffer",
        "bleed",
        "pay",
        "deserve",
        "deserves",
    ]
) - {"up", "out", "over"}
_THREAT: Final = re.compile(
    # the speaker announces violence against the reader: "I will shoot every one of you"
    r"\bi(?:'ll| will| am going to|'m going to|'m gonna| am gonna| gonna| shall)\s+"
    r"(?:(?:[\w']+\s+){0,8}?and\s+(?:then\s+)?(?:i(?:'ll| will)\s+)?)?"
    r"(?:(?:personally|fucking|literally|really|just|actually|gladly|happily|come|go)\s+)?"
    r"(?:kill|murder|shoot|stab|strangle|behead|slit|gut|beat|hurt|torture|rape|burn|bomb|"
    r"break (?:your|every)|find and (?:kill|hurt))\s+"
    r"(?:you|ya|u|your (?:family|kids|children|wife|husband|mother|throat|face)|"
    r"(?:every|each) (?:one|last one|single one) of you|all of you|you all|y'all)\b"
    r"(?!\s+(?:at|in)\s+(?:chess|poker|cards|the game|this game|mario|fortnite|tennis|golf|"
    r"a race|the race|the debate|court)\b)|"
    r"\byou(?:'re| are) (?:so )?(?:dead|going to die|gonna die|a dead (?:man|woman))\b|"
    r"\b(?:i know where you (?:live|work|sleep)|watch your back)\b",
)
_REPORTED: Final = re.compile(
    r"[\"'“‘]\s*$|\b(?:said|says|told|tells|wrote|writes|texted|messaged|yelled|shouted|"
    r"screamed|threatened|threatening|posted|warned)\b"
)
_DENIAL: Final = re.compile(r"\b(?:never|not|no|nobody|n't)\b|n't\b")
_SELF_HARM: Final = re.compile(
    r"\b(?:(?:you should|just|go|why don't you|why not|you might as well|please)\s+"
    r"(?:kill|hurt|cut|harm|starve) yourself|kys|"
    r"(?:you should|just|go|why not|you might as well)\s+end (?:it all|your life|it)|"
    r"(?:nobody|no one) (?:would|will) (?:miss|care about) you|"
    r"the world (?:would be|is) better (?:off )?without you|"
    r"you (?:deserve|should) (?:to )?die|you(?:'d| would) be better off dead|"
    r"(?:stop eating|starve yourself) (?:to|until) (?:lose|you lose|be thin))\b",
)
_DANGER_TOPIC: Final = re.compile(
    r"\b(?:pipe bombs?|bombs?|explosives?|detonators?|molotov|napalm|thermite|nerve agents?|"
    r"sarin|ricin|anthrax|mustard gas|chemical weapons?|bioweapons?|methamphetamine|meth|"
    r"crack cocaine|fentanyl|heroin|ghost guns?|untraceable (?:guns?|firearms?|weapons?)|"
    r"silencers?|ransomware|malware|keyloggers?|botnets?|ddos|phishing (?:emails?|pages?|sites?)|"
    r"credit card (?:fraud|skimming)|launder(?:ing)? money|money laundering|"
    r"counterfeit (?:money|bills|currency)|hack(?:ing)? into|break into (?:a|the|someone's|his|her|my) (?:house|home|car|account)|bypass (?:the )?"
    r"(?:security|authentication|password|paywall)|steal (?:someone's )?(?:identity|passwords?|"
    r"credit cards?)|poison(?:ing)? (?:someone|a person|my|your|him|her)|without getting caught|"
    r"untraceable poison|date rape drug|stalk(?:ing)? (?:someone|my|her|him))\b",
)
_HOW_TO: Final = re.compile(
    r"\b(?:step\s*\d|first,|then,|next,|finally,|you(?:'ll| will) need|ingredients|materials|"
    r"here(?:'s| is) how|instructions|tutorial|guide|how to|how do i|how can i|recipe|"
    r"write (?:a|an)|explain how|give me|tell me how|sure, here)\b|^\s*\d+[.)]\s",
    re.MULTILINE,
)


def _violence(text: str) -> list[Finding]:
    found: list[Finding] = []
    if _VIOLENCE_WORDS.isdisjoint(_WORD.findall(text)):
        return found
    for match in _VIOLENCE.finditer(text):
        start, end = sentence_at(text, match.start(), match.end())
        if is_counter_speech(text, match.start(), match.end()):
            continue
        if is_negated(text, match.start(), 14) or _DISAPPROVED.search(
            clause_before(text, match.start(), 60)
        ):
            continue
        if _SUBJECT_FORM.match(match.group()) and _NO_SUBJECT.search(
            clause_before(text, match.start(), 40)
        ):
            continue
        found.append(
            Finding(
                "violence",
                start,
                end,
                _violence_severity(match.group(), text[start:end]),
                "Urges or endorses violence against people",
            )
        )
    return _dedupe(found)


def _violence_severity(phrase: str, sentence: str) -> float:
    # "hurt them" may be a worry, "kill them" or a call to action is not
    first = phrase.split(maxsplit=1)[0].lower()
    if first not in _WEAK_VERBS or _INCITEMENT.search(sentence):
        return 0.95
    return 0.6


def _threats(text: str) -> list[Finding]:
    found = []
    for match in _THREAT.finditer(text):
        if (
            _DENIAL.search(match.group())
            or is_negated(text, match.start(), 14)
            or is_counter_speech(text, match.start(), match.end())
        ):
            continue
        start, end = sentence_at(text, match.start(), match.end())
        # "I know where you live" alone is menace, and a reported threat ("he said 'I will
        # kill you'") is a quote: both count less than a threat made in the text's own voice
        mild = match.group().startswith(("i know where", "watch your")) or bool(
            _REPORTED.search(text, start, match.start())
        )
        found.append(
            Finding(
                "threat", start, end, 0.6 if mild else 0.95, "Threatens the reader with violence"
            )
        )
    return found


def _self_harm(text: str) -> list[Finding]:
    return [
        Finding("self_harm", m.start(), m.end(), 0.95, "Encourages self-harm")
        for m in _SELF_HARM.finditer(text)
    ]


def _instructions(text: str) -> list[Finding]:
    topic = _DANGER_TOPIC.search(text)
    if topic is None or REFUSAL.search(text):
        return []
    start, end = sentence_at(text, topic.start(), topic.end())
    how_to = _HOW_TO.search(text) is not None
    return [
        Finding(
            "weapon_or_drug_instructions",
            start,
            end,
            0.8 if how_to else 0.45,
            "Helps with weapons, drugs, intrusion or fraud",
        )
    ]


def _dedupe(found: list[Finding]) -> list[Finding]:
    seen: set[tuple[int, int]] = set()
    kept = []
    for item in found:
        if (item.start, item.end) not in seen:
            seen.add((item.start, item.end))
            kept.append(item)
    return kept


def find(text: str) -> list[Finding]:
    """Find violence, threats, self-harm encouragement and dangerous instructions."""
    return _violence(text) + _threats(text) + _self_harm(text) + _instructions(text)
