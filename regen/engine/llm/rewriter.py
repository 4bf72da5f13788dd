"""The LLM regenerator: sends the improvement prompt to a chat model, returns its rewrite."""

from __future__ import annotations

import re
from typing import Final

from ..types import Regeneration, RegenerationRequest, Usage
from .client import LLMClient, estimate_tokens
from .errors import LLMBadResponse

MAX_OUTPUT_TOKENS: Final = 4096
_MIN_OUTPUT_TOKENS: Final = 256
_GROWTH: Final = 1.5
"""A rewrite may be longer than the text: a note, a hedge, a referral."""
# a delimiter line the model copied from the prompt, e.g. ``<<<CONTENT-3f9a…`` or ``…>>>``
_DELIMITER: Final = re.compile(
    r"^[ \t]*(?:<<<[A-Z]+-[0-9a-f]+|[A-Z]+-[0-9a-f]+>>>)[ \t]*$\n?", re.M
)
_PREAMBLE: Final = re.compile(
    r"\A(?:(?:sure|certainly|of course|okay|ok)\b[^\n]{0,40}\n+)?"
    r"(?:(?:sure|certainly|of course|okay|ok)[,!.]?\s*)?"
    r"(?:here(?: is|'s|’s)|below is|this is)\b[^\n]{0,100}:[ \t]*\n+|"
    r"\A(?:rewritten|revised|improved|updated) (?:text|version|response)[^\n]{0,40}:[ \t]*\n+",
    re.IGNORECASE,
)
_FENCE: Final = re.compile(r"\A```[\w-]*\n(?P<body>.*)\n```\Z", re.DOTALL)


class LLMRegenerator:
    """Rewrite text with a chat model from the loop's improvement prompt."""

    def __init__(
        self,
        client: LLMClient,
        *,
        name: str = "llm",
        max_attempts: int = 2,
        max_output_tokens: int = MAX_OUTPUT_TOKENS,
    ) -> None:
        self.client = client
        self.name = name
        self.max_attempts = max_attempts
        self.max_output_tokens = max_output_tokens

    def regenerate(self, request: RegenerationRequest) -> Regeneration:
        """Send the prompt; retry an empty answer, then raise ``LLMBadResponse``."""
        prompt = request.prompt
        messages = [
            {"role": "system", "content": prompt.system_prompt},
            {"role": "user", "content": prompt.user_prompt},
        ]
        usage = Usage()
        for _ in range(self.max_attempts):
            completion = self.client.complete(
                messages,
                temperature=prompt.temperature,
                max_tokens=self._max_tokens(len(request.content)),
            )
            usage = usage + completion.usage
            text = clean_rewrite(completion.text)
            if text:
                return Regeneration(text, self.client.qualified_model, usage)
        raise LLMBadResponse(f"the model returned an empty rewrite {self.max_attempts} times")

    def estimate_cost_usd(self, *, text_chars: int) -> float:
        """Price the worst case: the prompt (about twice the text) in, the token cap out."""
        prompt_tokens = estimate_tokens(2 * text_chars) + 600
        return self.client.cost_usd(
            input_tokens=prompt_tokens, output_tokens=self._max_tokens(text_chars)
        )

    def _max_tokens(self, text_chars: int) -> int:
        wanted = int(estimate_tokens(text_chars) * _GROWTH) + _MIN_OUTPUT_TOKENS
        return min(self.max_output_tokens, wanted)


def clean_rewrite(text: str) -> str:
    """Strip what a model adds around a rewrite: fences, delimiters, a preamble."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group("body").strip()
    body = _DELIMITER.sub("", body).strip()
    body = _PREAMBLE.sub("", body, count=1).strip()
    return _DELIMITER.sub("", body).strip()
