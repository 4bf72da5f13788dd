"""Bias and exclusion: discriminatory selection, stereotypes, dehumanizing, wording, abuse."""

from __future__ import annotations

import re
from typing import Final

from .base import Finding, is_counter_speech, sentence_at
from .groups import GROUP

_SELECT_VERB: Final = (
    r"prioriti[sz]e|prefer|favou?r|only (?:hire|accept|consider|select|admit|interview|rent to|"
    r"promote|recruit|shortlist|choose|pick|want|take)|(?:don't|do not|never|won't) (?:hire|"
    r"accept|consider|rent to|promote|interview|admit|select)|avoid|exclude|reject|screen out|"
    r"filter out|weed out|disqualify|rule out|pass on|steer clear of|look for|target|"
    r"give (?:preference|priority) to|should be (?:preferred|prioriti[sz]ed|hired first)"
)
_PROXY: Final = (
    r"ivy league|elite (?:universities|colleges|schools)|top-tier (?:universities|schools)|"
    r"prestigious (?:universities|colleges|schools)|native (?:english )?speakers?|"
    r"(?:candidates|applicants|people|anyone|workers|employees|tenants|students) "
    r"(?:with|who (?:have|are|speak)|from|over|under|above|older than|younger than) "
    r"(?:accents?|foreign|disabilit\w+|kids|children|a family|families|gaps?|"
    r"\d{2}|age \d{2}|pregnan\w+|(?:a )?religio\w*|wheelchairs?|mental|"
    r"(?:certain|bad|poor) (?:neighbou?rhoods|zip codes|areas)|an? (?:ethnic|foreign)\w*)|"
    r"(?:under|over|above|below) (?:the age of )?\d{2}(?:s| years)?|young(?:er)? (?:people|"
    r"candidates|applicants|workers|employees|talent)|digital natives|recent graduates only|"
    r"culture fit|pregnant \w+|mothers|fathers|married \w+|single (?:mothers|parents)|"
    r"(?:men|women|males|females)(?: only)?|" + GROUP
)
_EXCLUDING: Final = re.compile(r"only|don't|do not|never|won't|exclude|reject|avoid")
_CONTEXT: Final = re.compile(
    r"\b(?:hir\w*|recruit\w*|resumes?|cvs?|candidates?|applicants?|applications?|job|jobs|"
    r"positions?|roles?|interview\w*|tenants?|rent\w*|admissions?|admit|promot\w*|shortlist\w*|"
    r"employ\w*|staff|team|loans?|lend\w*|scholarships?|students?|selection)\b",
)
_SELECTION: Final = re.compile(
    r"\b(?:" + _SELECT_VERB + r")\s+(?:\w+\s+){0,2}?(?:" + _PROXY + r")\b"
)
_NEG_TRAIT: Final = (
    r"lazy|stupid|dumb|violent|criminals?|dirty|greedy|terrorists?|inferior|weak|too emotional|"
    r"hysterical|bad at \w+|worse at \w+|can't be trusted|untrustworthy|dangerous|thieves|"
    r"thugs|ugly|smelly|worthless|primitive|savages?|backwards?|incapable|unintelligent|"
    r"less intelligent|not as smart|not smart|irrational|cheap|greedy|liars?|sneaky|rapists|"
    r"drug dealers|illegal|welfare queens|stingy|aggressive|crazy|mentally ill|diseased|"
    r"a burden|burdens|a drain|useless|ruining|destroying|taking over|taking our jobs|"
    r"stealing our jobs|not real \w+|perverts?|pedophiles?|predators?|evil|sinful|abnormal|"
    r"unnatural|disgusting|gross|bad drivers|terrible drivers|can't drive|good at math|"
    r"naturally (?:better|worse|suited|gifted)|belong in the kitchen|should stay (?:home|"
    r"in the kitchen)|shouldn't (?:vote|work|lead|be allowed)|should not (?:vote|work|lead|"
    r"be allowed)|don't belong|are all the same|all look the same|only care about money|"
    r"are a plague|overrun|repulsive|revolting|vile|despicable|pathetic|scum|filth|filthy|"
    r"disgrace|trash|garbage|horrible|awful|the worst|subhuman|a waste of \w+|nasty|hateful"
)
_STEREOTYPE: Final = re.compile(
    r"\b(?:all |most |those |these |typical |so many |the )?(?:" + GROUP + r")\s+"
    r"(?:are|is|were|can't|cannot|can never|don't|do not|never|always|just|should|tend to be|"
    r"are just|are all|are naturally|are inherently|are always|belong|ruin|destroy|steal)\s+"
    r"(?:\w+\s+){0,3}?(?:" + _NEG_TRAIT + r")\b",
)
_DEHUMANIZING_NOUN: Final = (
    r"animals|beasts|vermin|rats|cockroaches|roaches|parasites|leeches|subhuman|sub-human|"
    r"insects|pigs|apes|monkeys|dogs|savages|a disease|a cancer|a plague|a virus|an infestation|"
    r"trash|garbage|filth|scum|not (?:even )?human|less than human|monsters|demons|"
    r"a stain|an infection"
)
_DEHUMANIZING: Final = re.compile(
    r"\b(?:" + GROUP + r"|they|these people|those people)\s+(?:are|is|were|are just|are like|"
    r"are nothing but|are all)\s+(?:(?:a|an|the|such|filthy|dirty|disgusting|\w+ing)\s+){0,2}"
    r"(?:" + _DEHUMANIZING_NOUN + r")\b|"
    r"\b(?:infestation|plague|swarm|horde) of (?:" + GROUP + r")\b|"
    r"\b(?:" + GROUP + r")\s+(?:vermin|scum|filth|trash|animals|parasites)\b",
)
_HATE: Final = re.compile(
    r"\b(?:i|we|everyone|people)\s+(?:\w+ly\s+|really\s+|just\s+|all\s+)?(?:hate|despise|detest|loathe|"
    r"can't stand|cannot stand|am sick of|are sick of|am disgusted by|are disgusted by)\s+"
    r"(?:all\s+|those\s+|these\s+|the\s+)?(?:" + GROUP + r")\b|"
    r"\bno (?:" + GROUP + r") (?:allowed|welcome|wanted)\b|"
    r"\b(?:find|consider|think|call)\s+(?:all\s+|most\s+|those\s+|these\s+)?(?:" + GROUP + r")"
    r"\s+(?:are\s+)?(?:so\s+|really\s+|utterly\s+|totally\s+)?(?:" + _NEG_TRAIT + r")\b|"
    r"\b(?:" + GROUP + r")\s+(?:should|must|need to|ought to)\s+(?:all\s+)?(?:be banned|be "
    r"deported|go back|get out|leave|be locked up|not be allowed|be sterili[sz]ed|disappear|"
    r"be removed|be kept out|stay out)\b|"
    r"\b(?:" + GROUP + r")\s+(?:are|is)\s+(?:the worst|a disgrace|a curse|a problem|"
    r"the problem|the enemy|not welcome|not wanted|beneath us)\b|"
    r"\b(?:" + GROUP + r")\s+(?:have|has) no place\b",
)
# "they" is too common to open a window on; pronoun forms get their own small pattern
_MENTION: Final = re.compile(r"\b(?:" + GROUP + r"|these people|those people)\b")
_PRONOUN_DEHUMANIZING: Final = re.compile(
    r"\bthey\s+(?:are|were)\s+(?:just\s+|all\s+|nothing but\s+)?(?:" + _DEHUMANIZING_NOUN + r")\b"
)
_EXCLUSIONARY: Final = re.compile(
    r"\b(?:(?:hey|hi|hello|you|thanks|thank you|ok|okay) guys|manpower|man-hours|chairman|"
    r"chairmen|mankind|policeman|policemen|fireman|firemen|salesman|salesmen|workmanlike|"
    r"crazy|insane|lame|dumb|retarded|retard|crippled?|spaz|psycho|schizo|"
    r"normal people|wheelchair[- ]bound|confined to a wheelchair|suffers from autism|"
    r"illegal aliens?|illegals|blacklist|whitelist|master/slave|man up|like a girl)\b",
)
_STRONG_EXCLUSION: Final = frozenset({"retarded", "retard", "spaz", "illegals"})
_SLUR: Final = re.compile(
    r"\b(?:nigg(?:er|a|ah|az)s?|fag(?:got)?s?|dykes?|trann(?:y|ies)|kikes?|spics?|chinks?|"
    r"wetbacks?|gooks?|towelheads?|sand ?niggers?|raghead|beaners?|coons?|cripples|retards|"
    r"savages|jungle bunn(?:y|ies)|porch monkeys?|camel jockeys?|white trash|redskins?|"
    r"gypped|shemales?)\b",
)
_ABUSE: Final = re.compile(
    r"\b(?:fuck\w*|f\*+k\w*|motherfuck\w*|shit\w*|bullshit|bitch\w*|bastards?|assholes?|"
    r"arseholes?|cunts?|dicks?|dickheads?|pussy|pussies|whores?|sluts?|hoes?|hoe|twats?|wankers?|"
    r"idiots?|morons?|imbeciles?|stupid|losers?|pathetic|scumbags?|douche\w*|jackass\w*|"
    r"piece of shit|shut (?:the fuck )?up|go to hell|screw you|stfu|dumbass\w*|ugly)\b",
)


def _group_windows(text: str) -> list[tuple[int, int]]:
    """Find the sentences that mention a group: the only places group patterns can match."""
    windows: list[tuple[int, int]] = []
    for mention in _MENTION.finditer(text):
        start, end = sentence_at(text, mention.start(), mention.end())
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


def _scan_sentences(
    text: str,
    windows: list[tuple[int, int]],
    pattern: re.Pattern[str],
    kind: str,
    severity: float,
    description: str,
) -> list[Finding]:
    found: list[Finding] = []
    last_end = -1
    matches = (m for start, end in windows for m in pattern.finditer(text, start, end))
    for match in matches:
        if is_counter_speech(text, match.start(), match.end()):
            continue
        start, end = sentence_at(text, match.start(), match.end())
        if start < last_end:
            continue  # one finding per sentence is enough to point the rewrite at it
        last_end = end
        found.append(Finding(kind, start, end, severity, description))
    return found


def _selection(text: str) -> list[Finding]:
    found: list[Finding] = []
    if _CONTEXT.search(text) is None:
        return found
    for match in _SELECTION.finditer(text):
        start, end = sentence_at(text, match.start(), match.end())
        # "Ivy growing on walls" has no selection verb; "prefer men" needs a selection setting
        if is_counter_speech(text, match.start(), match.end()):
            continue
        severity = 0.8 if _EXCLUDING.match(match.group()) else 0.7
        found.append(
            Finding(
                "discriminatory_selection",
                start,
                end,
                severity,
                "Selects or excludes people by a protected trait or a proxy for one",
            )
        )
    return found


def _wording(text: str) -> list[Finding]:
    found: list[Finding] = []
    for match in _EXCLUSIONARY.finditer(text):
        severity = 0.5 if match.group().lower() in _STRONG_EXCLUSION else 0.15
        found.append(
            Finding(
                "exclusionary_wording",
                match.start(),
                match.end(),
                severity,
                f"Exclusionary wording: {match.group()!r}",
            )
        )
    return found


def _lexicon(
    text: str, pattern: re.Pattern[str], kind: str, severity: float, description: str
) -> list[Finding]:
    found = [
        Finding(kind, m.start(), m.end(), severity, description) for m in pattern.finditer(text)
    ]
    # repeated abuse weighs a little more, but the scorer's diminishing returns cap it
    return found[:4]


def find(text: str) -> list[Finding]:
    """Find discriminatory selection, stereotypes, dehumanizing language and abuse."""
    found = _selection(text)
    windows = _group_windows(text)
    found += _scan_sentences(
        text, windows, _STEREOTYPE, "stereotype", 0.65, "Generalizes a negative trait to a group"
    )
    found += _scan_sentences(
        text,
        windows,
        _DEHUMANIZING,
        "dehumanizing",
        0.9,
        "Describes a group of people as less than human",
    )
    if "they" in text:
        found += _scan_sentences(
            text,
            [(0, len(text))],
            _PRONOUN_DEHUMANIZING,
            "dehumanizing",
            0.9,
            "Describes a group of people as less than human",
        )
    found += _scan_sentences(
        text, windows, _HATE, "hate_speech", 0.75, "Expresses hatred or exclusion of a group"
    )
    found += _wording(text)
    found += _lexicon(text, _SLUR, "slur", 0.8, "Uses a slur against a group")
    found += _lexicon(text, _ABUSE, "abusive_language", 0.45, "Uses abusive or profane language")
    return found
