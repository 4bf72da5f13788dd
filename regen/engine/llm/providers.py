"""Named LLM providers: each an OpenAI-compatible endpoint with its models and their prices.

A model is named ``provider/model`` anywhere one is chosen (the model part may itself
contain ``/``, e.g. ``openrouter/meta-llama/llama-3-8b``). A provider lists the models it
allows, each with its price per million input and output tokens: the one price table the
calls, the estimates and the budget stop all read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .client import Price


class ProviderConfigError(ValueError):
    """The provider settings are malformed (a server misconfiguration, never the caller's)."""


@dataclass(frozen=True, slots=True)
class Provider:
    """One OpenAI-compatible endpoint the server may call, and the models it allows."""

    name: str
    base_url: str
    models: Mapping[str, Price]
    api_key: str = field(default="", repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    deadline: float = 60.0
    max_retries: int = 2
    backoff_base: float = 0.5
    json_mode: bool = True

    @property
    def default_model(self) -> str:
        return next(iter(self.models))

    def price(self, model: str) -> Price:
        return self.models[model]


_TIMEOUTS = ("connect_timeout", "read_timeout", "deadline", "backoff_base")


def split_model(name: str) -> tuple[str, str] | None:
    """Split ``provider/model`` at its first ``/``; None when it is not of that form."""
    provider, slash, model = name.partition("/")
    if not slash or not provider or not model:
        return None
    return provider, model


def parse_price(model: str, value: Any) -> Price:
    """Read ``[input, output]`` or ``{"input": .., "output": ..}`` USD per million tokens."""
    if isinstance(value, Mapping):
        value = [value.get("input"), value.get("output")]
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or min(value) < 0
    ):
        raise ProviderConfigError(
            f"model {model!r}: the price must be [input, output] USD per million tokens, "
            f"both >= 0 (0 for a local model), not {value!r}"
        )
    return Price(float(value[0]), float(value[1]))


def parse_provider(
    name: str, raw: Any, *, environ: Mapping[str, str], defaults: Mapping[str, Any]
) -> Provider:
    """Build one provider from its settings entry; the API key comes from ``environ``."""
    if not name or "/" in name or not isinstance(raw, Mapping):
        raise ProviderConfigError(f"provider {name!r}: a name without '/' and an object")
    base_url = raw.get("base_url")
    if not isinstance(base_url, str) or not base_url.strip():
        raise ProviderConfigError(f"provider {name!r}: base_url is required")
    models = raw.get("models")
    if not isinstance(models, Mapping) or not models:
        raise ProviderConfigError(
            f"provider {name!r}: models must map each allowed model to its price"
        )
    key_env = raw.get("api_key_env", "")
    if not isinstance(key_env, str):
        raise ProviderConfigError(f"provider {name!r}: api_key_env must be a variable name")
    knobs: dict[str, Any] = {}
    for knob in (*_TIMEOUTS, "max_retries", "json_mode"):
        value = raw.get(knob, defaults.get(knob))
        if value is None:
            continue
        if knob == "json_mode":
            knobs[knob] = bool(value)
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ProviderConfigError(f"provider {name!r}: {knob} must be a number >= 0")
        else:
            knobs[knob] = int(value) if knob == "max_retries" else float(value)
    return Provider(
        name=name,
        base_url=base_url.strip().rstrip("/"),
        models={str(model): parse_price(str(model), price) for model, price in models.items()},
        api_key=environ.get(key_env, "") if key_env else "",
        **knobs,
    )


def parse_providers(
    raw: Mapping[str, Any], *, environ: Mapping[str, str], defaults: Mapping[str, Any]
) -> dict[str, Provider]:
    """Build every provider of the ``RAIL_PROVIDERS`` mapping, or raise naming the fault."""
    if not isinstance(raw, Mapping):
        raise ProviderConfigError("RAIL_PROVIDERS must be a JSON object of providers")
    return {
        str(name): parse_provider(str(name), entry, environ=environ, defaults=defaults)
        for name, entry in raw.items()
    }
