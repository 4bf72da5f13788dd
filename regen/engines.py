"""Choose the evaluator and the regenerator for a request: from the project, else the server.

The server's settings give the defaults: ``RAIL_EVALUATOR`` is ``embedded`` (offline, the
default: learned heads composed with the rules; ``learned`` is an alias), ``rules`` (the
rules alone), ``llm`` (an LLM judge, ``RAIL_JUDGE_MODEL`` or the default model) or
``cascade`` (embedded, the judge only when unsure: ``engine.evaluators.cascade``);
``RAIL_REGENERATOR`` is ``embedded``, ``llm`` (the default model) or a ``provider/model``.
A project may choose its own evaluator, judge and regenerator (``Project.evaluator``,
``judge_model``, ``regenerator``). Models come from the configured providers
(``regen.providers``); an account's own key for a provider is used for its calls.
The LLM evaluator falls back to the embedded one when the endpoint is down, and says so
(``degraded``). Clients are built lazily in each process, so a forked worker never shares
a socket.

Model names are checked in one place, ``check_model``: a name the caller gets wrong is
the caller's 400; a setting (or a project's stored choice) that names nothing this
server has is a 503.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings

from railsite.errors import RequestValidationError, ServiceUnavailable
from regen import providers
from regen.engine.estimate import Estimate, estimate
from regen.engine.evaluators.cascade import CascadeEvaluator
from regen.engine.evaluators.learned import LearnedEvaluator
from regen.engine.evaluators.rules import RulesEvaluator
from regen.engine.llm import FallbackEvaluator, LLMClient, LLMEvaluator, LLMRegenerator
from regen.engine.pricing import Prices
from regen.engine.regenerators.embedded import EmbeddedRegenerator
from regen.engine.requests import RegenerateRequest
from regen.engine.types import Evaluator, Regenerator

SERVER_REGENERATOR = "RAIL_Safe_LLM"
EXTERNAL = "external"
EMBEDDED_NAMES = ("embedded", EmbeddedRegenerator.model)
EMBEDDED_EVALUATORS = ("embedded", "learned")
EVALUATORS = ("embedded", "learned", "rules", "llm", "cascade")
PROJECT_EVALUATORS = ("embedded", "llm", "cascade")
REGENERATORS = ("embedded", EmbeddedRegenerator.model, "llm")


@lru_cache(maxsize=1)
def _embedded_evaluator() -> LearnedEvaluator:
    return LearnedEvaluator()


@lru_cache(maxsize=1)
def _rules_evaluator() -> RulesEvaluator:
    return RulesEvaluator()


@lru_cache(maxsize=1)
def _embedded_regenerator() -> EmbeddedRegenerator:
    return EmbeddedRegenerator()


@lru_cache(maxsize=64)
def _judge(client: LLMClient) -> Evaluator:
    return FallbackEvaluator(
        LLMEvaluator(client, json_mode=_json_mode(client)), _embedded_evaluator()
    )


@lru_cache(maxsize=64)
def _rewriter(client: LLMClient) -> LLMRegenerator:
    return LLMRegenerator(client)


def _json_mode(client: LLMClient) -> bool:
    provider = providers.providers().get(client.provider)
    return provider.json_mode if provider is not None else True


def reset() -> None:
    """Forget built engines and providers (after a settings change in tests)."""
    for cached in (_judge, _rewriter):
        cached.cache_clear()
    providers.reset()


def _client(name: str, *, account: Any, setting: str) -> LLMClient:
    """A client for ``name`` that a setting or a stored choice names: 503 if unconfigured."""
    try:
        return providers.client(name, account=account)
    except LookupError:
        raise ServiceUnavailable(
            f"{setting} names {name!r}, which is not a provider/model configured on this server."
        ) from None


def _default_model(setting: str) -> str:
    name = providers.default_model()
    if name is None:
        raise ServiceUnavailable(
            f"{setting} selects an LLM engine but no provider is configured "
            "(RAIL_PROVIDERS, or RAIL_LLM_BASE_URL)."
        )
    return name


def get_evaluator(*, account: Any = None, project: Any = None) -> Evaluator:
    """Return the evaluator of the project (its choice), else the server's (``RAIL_EVALUATOR``)."""
    chosen = getattr(project, "evaluator", "")
    kind = chosen or settings.RAIL_EVALUATOR
    setting = "The project's evaluator" if chosen else "RAIL_EVALUATOR"
    if kind in EMBEDDED_EVALUATORS:
        return _embedded_evaluator()
    if kind == "rules":
        return _rules_evaluator()
    if kind not in ("llm", "cascade"):
        raise ServiceUnavailable(f"The evaluator {kind!r} is not available on this server.")
    judge_name = (
        getattr(project, "judge_model", "") or settings.RAIL_JUDGE_MODEL or _default_model(setting)
    )
    judge = _judge(_client(judge_name, account=account, setting="The judge model"))
    if kind == "llm":
        return judge
    return CascadeEvaluator(
        _embedded_evaluator(),
        judge,
        margin=settings.RAIL_CASCADE_MARGIN,
        min_confidence=settings.RAIL_CASCADE_MIN_CONFIDENCE,
    )


def configuration_problems() -> list[str]:
    """Name what is wrong with the engine settings (checked at start: ``regen.checks``)."""
    problems = providers.configuration_problems()
    if settings.RAIL_EVALUATOR not in EVALUATORS:
        problems.append(
            f"RAIL_EVALUATOR={settings.RAIL_EVALUATOR!r}: use one of {', '.join(EVALUATORS)}."
        )
    regenerator = settings.RAIL_REGENERATOR
    if problems and problems[0].startswith("RAIL_PROVIDERS"):
        return problems
    if regenerator not in REGENERATORS and providers.resolve(regenerator) is None:
        problems.append(
            f"RAIL_REGENERATOR={regenerator!r}: use embedded, llm or a configured provider/model."
        )
    uses_llm = settings.RAIL_EVALUATOR in ("llm", "cascade") or settings.RAIL_REGENERATOR == "llm"
    if uses_llm and not providers.providers():
        problems.append(
            "An LLM engine is selected but no provider is configured "
            "(RAIL_PROVIDERS, or RAIL_LLM_BASE_URL)."
        )
    return problems


def check_model(name: str, *, field: str, embedded: bool = True) -> str:
    """Check a model a caller or an admin names: ``embedded`` (if allowed) or a configured
    ``provider/model``; anything else is their 400 on ``field``."""
    if embedded and name in EMBEDDED_NAMES:
        return name
    if providers.resolve(name) is not None:
        return name
    choices = ", ".join(providers.model_names()) or "none"
    message = f"{name!r} is not a model configured on this server (configured: {choices})."
    raise RequestValidationError(f"{field}: {message}", details={field: [message]})


def get_regenerator(model: str, *, account: Any = None, project: Any = None) -> Regenerator:
    """Return the regenerator a request names: ``RAIL_Safe_LLM`` (the project's choice, else
    the server's), ``embedded``, or a configured ``provider/model``."""
    server = model == SERVER_REGENERATOR
    chosen = getattr(project, "regenerator", "") if server else ""
    name = (chosen or settings.RAIL_REGENERATOR) if server else model
    setting = "The project's regenerator" if chosen else "RAIL_REGENERATOR"
    if name in EMBEDDED_NAMES:
        return _embedded_regenerator()
    if name == "llm":
        name = _default_model(setting)
    if providers.resolve(name) is None:
        if server:  # the server's own setting names nothing it has
            raise ServiceUnavailable(f"The regenerator {name!r} is not available on this server.")
        check_model(model, field="regeneration_model")
    return _rewriter(_client(name, account=account, setting=setting))


def get_prices() -> Prices:
    """Return the credit price table from the settings."""
    return Prices.from_mapping(settings.CREDIT_PRICES)


def price(request: RegenerateRequest, *, account: Any = None, project: Any = None) -> Estimate:
    """The one estimate of a request on the engines that would serve it and their prices:
    what the hold, the dry run, the EvalGuard pre-flight and the budget stop all read. An
    unknown regeneration model is a 400 here, before anything is held."""
    external = request.regeneration_model == EXTERNAL
    return estimate(
        request,
        evaluator=get_evaluator(account=account, project=project),
        regenerator=None
        if external
        else get_regenerator(request.regeneration_model, account=account, project=project),
        prices=get_prices(),
    )
