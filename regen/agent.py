"""The SDK's agent guards this server offers: a prompt-injection check and a tool-result scan.

``POST /railscore/v1/agent/prompt-injection`` and ``/agent/tool-result`` answer in the
shapes the RAIL SDK reads (``InjectionCheck``, ``ToolResultRisk``), from the engine's
detectors (``regen.engine.agent``). Each costs ``Prices.agent_scan`` credits (0.5), held
before the scan and settled after it, so a failed scan charges nothing. The other agent
and compliance calls answer 501 (``regen.api.views.NotOfferedView``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.utils import timezone

from billing import ledger
from railsite.errors import RequestValidationError
from regen.engine import agent
from regen.engine.requests import CONTENT_MAX, FieldErrors
from regen.engines import get_prices
from regen.runs import Caller

CHECKS = ("pii", "prompt_injection", "rail_score")
"""What a tool-result scan may run; it runs every one unless ``checks`` names some.
``rail_score`` is accepted and not scored here: use ``/railscore/v1/eval`` for it."""


def _refuse(errors: FieldErrors) -> None:
    if errors.details:
        name = next(iter(errors.details))
        raise RequestValidationError(f"{name}: {errors.details[name][0]}", details=errors.details)


def _text(value: Any, name: str, errors: FieldErrors) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.add(name, "Must be a non-empty string.")
        return ""
    if len(value) > CONTENT_MAX:
        errors.add(name, f"Must be at most {CONTENT_MAX:,} characters.")
    return value


def _body(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise RequestValidationError("The body must be a JSON object.")
    return data


def _scanned(caller: Caller, reference: str, memo: str, scan: Callable[[], agent.AgentScan]) -> tuple[agent.AgentScan, Decimal]:
    """Hold the price, scan, then charge it; a scan that fails gives the credits back."""
    hold = ledger.hold(
        account=caller.account, amount=get_prices().agent_scan, reference=reference, memo=memo
    )
    try:
        found = scan()
    except Exception:
        ledger.release(hold=hold, memo=f"{memo}: failed")
        raise
    return found, ledger.settle(hold=hold, used=hold.amount).used


def check_injection(*, caller: Caller, data: Any) -> dict[str, Any]:
    """Scan ``content`` for prompt injection; answer the SDK's ``InjectionCheck``."""
    body, errors = _body(data), FieldErrors()
    content = _text(body.get("content"), "content", errors)
    _refuse(errors)
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


def _tool_text(value: Any, errors: FieldErrors) -> str:
    if not isinstance(value, Mapping) or ("raw" not in value and "data" not in value):
        errors.add("tool_result", "Must be an object with raw (text) or data (JSON).")
        return ""
    if "raw" in value:
        return _text(value["raw"], "tool_result.raw", errors)
    return _text(json.dumps(value["data"], ensure_ascii=False), "tool_result.data", errors)


def _checks(value: Any, errors: FieldErrors) -> set[str]:
    if value is None:
        return set(CHECKS)
    if not isinstance(value, list) or not value or not set(value) <= set(CHECKS):
        errors.add("checks", f"Must be a non-empty list of {', '.join(CHECKS)}.")
        return set()
    return set(value)


def tool_result(*, caller: Caller, data: Any) -> dict[str, Any]:
    """Scan a tool's output for personal data and injection; answer ``ToolResultRisk``."""
    body, errors = _body(data), FieldErrors()
    if not isinstance(body.get("tool_name"), str) or not body["tool_name"].strip():
        errors.add("tool_name", "Must be a non-empty string.")
    text = _tool_text(body.get("tool_result"), errors)
    checks = _checks(body.get("checks"), errors)
    _refuse(errors)
    event_id = str(uuid.uuid4())
    found, price = _scanned(
        caller,
        event_id,
        f"agent tool-result scan: {body['tool_name'][:80]}",
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
