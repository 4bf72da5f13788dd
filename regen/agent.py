"""The SDK's agent guards this server offers: a prompt-injection check and a tool-result scan.

``POST /railscore/v1/agent/prompt-injection`` and ``/agent/tool-result`` answer in the
shapes the RAIL SDK reads (``InjectionCheck``, ``ToolResultRisk``), from the engine's
detectors (``regen.engine.agent``). Each costs ``Prices.agent_scan`` credits (0.5), held
before the scan and settled after it, so a failed scan charges nothing. The other agent
and compliance calls answer 501 (``regen.api.views.NotOfferedView``). The request bodies
are validated by their serializers (``regen.api.serializers``) before these are called.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from decimal import Decimal
from typing import Any

from django.utils import timezone

from billing import ledger
from regen.engine import agent
from regen.engines import get_prices
from regen.runs import Caller

CHECKS = ("pii", "prompt_injection", "rail_score")
"""What a tool-result scan may run; it runs every one unless ``checks`` names some.
``rail_score`` is accepted and not scored here: use ``/railscore/v1/eval`` for it."""


def _scanned(
    caller: Caller, reference: str, memo: str, scan: Callable[[], agent.AgentScan]
) -> tuple[agent.AgentScan, Decimal]:
    """Hold the price, scan, then charge it; a scan that fails gives the credits back."""
    hold = ledger.hold(
        account=caller.account,
        amount=get_prices().agent_scan,
        reference=reference,
        memo=memo,
        request_bound=True,
        api_key=caller.api_key,
    )
    try:
        found = scan()
    except Exception:
        ledger.release(hold=hold, memo=f"{memo}: failed")
        raise
    return found, ledger.settle(hold=hold, used=hold.amount).used


def check_injection(*, caller: Caller, content: str) -> dict[str, Any]:
    """Scan ``content`` for prompt injection; answer the SDK's ``InjectionCheck``."""
    event_id = str(uuid.uuid4())
    found, price = _scanned(
        caller, event_id, "agent prompt-injection check", lambda: agent.scan(content, pii=False)
    )
    _, action = agent.decide(found)
    return {
        "event_id": event_id,
        "injection_detected": bool(found.injections),
        "confidence": round(found.injection_confidence, 2),
        "attack_type": "instruction_override" if found.injections else "none",
        "severity": agent.severity_name(found.injection_confidence),
        "payload_preview": found.injection_preview(),
        "recommended_action": action,
        "credits_consumed": float(price),
        "evaluated_at": timezone.now().isoformat(),
    }


def tool_result(
    *, caller: Caller, tool_name: str, text: str, checks: Collection[str]
) -> dict[str, Any]:
    """Scan a tool's output for personal data and injection; answer ``ToolResultRisk``."""
    event_id = str(uuid.uuid4())
    found, price = _scanned(
        caller,
        event_id,
        f"agent tool-result scan: {tool_name[:80]}",
        lambda: agent.scan(text, pii="pii" in checks, injections="prompt_injection" in checks),
    )
    risk, action = agent.decide(found)
    return {
        "event_id": event_id,
        "risk_level": risk,
        "recommended_action": action,
        "pii_detected": {
            "found": bool(found.pii),
            "entities": [
                {
                    "type": item.kind,
                    "value": text[item.start : item.end],
                    "offset": item.start,
                    "should_redact": True,
                }
                for item in found.pii
            ],
            "redacted_result": found.redacted if found.pii else None,
        }
        if "pii" in checks
        else None,
        "prompt_injection": {
            "detected": bool(found.injections),
            "confidence": round(found.injection_confidence, 2),
            "patterns_checked": ["instruction_override", "forged_verdict", "hidden_characters"],
        }
        if "prompt_injection" in checks
        else None,
        "rail_score": None,
        "redacted_available": bool(found.pii),
        "credits_consumed": float(price),
        "evaluated_at": timezone.now().isoformat(),
    }
