"""Names of groups of people, shared by the bias and harm detectors."""

from __future__ import annotations

from typing import Final

_NATIONS: Final = (
    r"mexicans?|chinese|asians?|africans?|arabs?|indians?|pakistanis?|russians?|jews?|muslims?|"
    r"christians?|hindus?|sikhs?|buddhists?|atheists?|catholics?|mormons?|latinos?|latinas?|"
    r"latinx|hispanics?|blacks|whites|natives?|native americans?|gypsies|roma|romani|"
    r"immigrants?|migrants?|refugees?|foreigners?|illegals|aliens|americans?|europeans?|"
    r"koreans?|japanese|filipinos?|vietnamese|iranians?|iraqis?|syrians?|somalis?|nigerians?|"
    r"middle easterners?|poles|polish people|irish|italians?|germans?|french|brits|british people"
)
_PEOPLE_OF: Final = (
    r"(?:black|white|brown|asian|gay|lesbian|bisexual|trans|transgender|queer|disabled|deaf|"
    r"blind|autistic|old|older|elderly|young|poor|fat|overweight|obese|ugly|short|mentally ill|"
    r"religious|jewish|muslim|christian|indigenous|native|foreign|immigrant|single|divorced|"
    r"pregnant|rich|homeless|working[- ]class|neurodivergent|non-binary|nonbinary)\s+"
    r"(?:people|person|persons|folks|man|woman|men|women|kids|children|students|workers|employees|"
    r"candidates|applicants|girls|boys|guys|individuals|americans|drivers|parents)"
)
_GENDER_AND_MORE: Final = (
    r"women|men|girls|boys|females|males|ladies|wives|husbands|mothers|fathers|moms|dads|"
    r"gays|lesbians|homosexuals|transgenders|trannies|the disabled|cripples|retards|"
    r"the elderly|old people|boomers|millennials|teenagers|the poor|poor people|rich people|"
    r"liberals|conservatives|democrats|republicans|leftists|feminists|vegans|blondes|"
    r"minorities|people of colou?r|fags|faggots"
)

GROUP: Final = "(?:" + _PEOPLE_OF + "|" + _NATIONS + "|" + _GENDER_AND_MORE + ")"
"""A regex fragment (no word boundaries) that matches a name of a group of people."""
