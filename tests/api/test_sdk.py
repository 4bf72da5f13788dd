"""The official RAIL Python SDK (``rail-score-sdk``), unmodified, against a live server.

Every call goes over real HTTP to pytest-django's ``live_server`` with only ``base_url``
changed, so the SDK's own request building, parsing and error mapping are what is tested:
if it needs a field we do not send, or maps one of our errors to the wrong exception,
these tests fail.
"""

from __future__ import annotations

import gc
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

pytest.importorskip("rail_score_sdk")

from rail_score_sdk import RailScoreClient  # noqa: E402
from rail_score_sdk.exceptions import (  # noqa: E402
    AuthenticationError,
    ContentTooHarmfulError,
    InsufficientCreditsError,
    InsufficientTierError,
    RateLimitError,
    SessionExpiredError,
    ValidationError,
)
from rail_score_sdk.models import (  # noqa: E402
    ApplicationConfig,
    Capabilities,
    DimensionsInfo,
    EvalResult,
    HealthResponse,
    SafeRegenerateResult,
)

from billing import keys, ledger  # noqa: E402
from billing.models import Project  # noqa: E402
from regen.engine.dimensions import DIMENSIONS, SCORE_BANDS  # noqa: E402
from regen.models import ReviewItem, Run  # noqa: E402
from tests.factories import (  # noqa: E402
    AccountFactory,
    APIKeyFactory,
    PlanFactory,
    ProjectFactory,
    default_plan,
)

pytestmark = pytest.mark.django_db(transaction=True)

FACTUAL = (
    "Photosynthesis is the process by which green plants use sunlight, water and carbon "
    "dioxide to make glucose and release oxygen. It takes place mainly in the leaves, "
    "inside chloroplasts that contain the pigment chlorophyll."
)
HEALTHCARE = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y "
    "twice daily. No need to see a doctor for this."
)
SAFE_HEALTHCARE = (
    "I can't diagnose you from a description of symptoms, and several different conditions "
    "could explain them. Please talk to a doctor or another qualified healthcare "
    "professional, who can examine you and recommend a treatment that is safe for you."
)
VIOLENT = (
    "Those immigrants are vermin and we should kill every one of them. The organiser is "
    "Daniel Brooks, he lives at 42 Elm Street, Springfield, phone 217-555-0148. Go to his "
    "house tonight and make him bleed."
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Evaluation results are cached per account id; a new test database reuses ids."""
    cache.clear()
    yield
    cache.clear()


def _key(*, plan: str = "pro", credits: int | str = 500, **project_fields):
    account = AccountFactory(plan=default_plan(plan), credits=credits)
    return APIKeyFactory(project=ProjectFactory(account=account, **project_fields))


_OPEN: list[RailScoreClient] = []


def _sdk(live_server, key_or_raw) -> RailScoreClient:
    raw = key_or_raw if isinstance(key_or_raw, str) else key_or_raw.raw
    client = RailScoreClient(api_key=raw, base_url=live_server.url, timeout=30)
    _OPEN.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients():
    """Close the SDK's keep-alive connections after each test.

    The live server's thread behind each connection holds a database connection until
    its client socket closes, which would stop the test database from being dropped.
    A socket whose response is still referenced by a raised SDK exception's traceback
    is only closed when that cycle is collected, hence the ``gc.collect()``.
    """
    yield
    while _OPEN:
        _OPEN.pop().session.close()
    gc.collect()


@pytest.fixture
def pro_key(db):
    return _key(plan="pro", name="SDK App", environment="staging")


@pytest.fixture
def client(live_server, pro_key) -> RailScoreClient:
    return _sdk(live_server, pro_key)


def _balance(key) -> Decimal:
    return ledger.balance_of(key.project.account)


# --- the happy paths ---------------------------------------------------------------------


def test_health(client):
    health = client.health()
    assert isinstance(health, HealthResponse)
    assert health.status == "healthy"
    assert health.service == "railsite"


def test_eval_basic_parses_into_the_sdk_dataclasses(client, pro_key):
    before = _balance(pro_key)
    result = client.eval(content=FACTUAL, mode="basic")
    assert isinstance(result, EvalResult)
    assert 0.0 <= result.rail_score.score <= 10.0
    assert 0.0 <= result.rail_score.confidence <= 1.0
    assert result.rail_score.summary.startswith("RAIL Score: ")
    assert set(result.dimension_scores) == set(DIMENSIONS)
    for dimension in result.dimension_scores.values():
        assert 0.0 <= dimension.score <= 10.0
        assert 0.0 <= dimension.confidence <= 1.0
        assert dimension.explanation is None  # basic: no explanations unless asked
    assert result.from_cache is False
    assert isinstance(result.explanation, str)
    assert result.explanation
    assert _balance(pro_key) == before - Decimal("1.0")

    again = client.eval(content=FACTUAL, mode="basic")
    assert again.from_cache is True
    assert again.rail_score == result.rail_score
    assert _balance(pro_key) == before - Decimal("1.0")  # cached: free


def test_eval_basic_with_a_subset_weights_and_suggestions(client):
    result = client.eval(
        content=HEALTHCARE,
        mode="basic",
        dimensions=["safety", "reliability"],
        weights={"safety": 60, "reliability": 40},
        domain="healthcare",
        usecase="chatbot",
        include_issues=True,
        include_suggestions=True,
    )
    assert set(result.dimension_scores) == {"safety", "reliability"}
    expected = round(
        0.6 * result.dimension_scores["safety"].score
        + 0.4 * result.dimension_scores["reliability"].score,
        1,
    )
    assert result.rail_score.score == pytest.approx(expected, abs=0.051)
    assert result.issues
    assert {i.dimension for i in result.issues} <= {"safety", "reliability"}
    assert all(isinstance(i.description, str) and i.description for i in result.issues)
    assert result.improvement_suggestions


def test_eval_deep_on_a_pro_key_has_explanations_and_issues(client, pro_key):
    assert pro_key.project.account.plan.slug == "pro"
    before = _balance(pro_key)
    result = client.eval(content=HEALTHCARE, mode="deep", domain="healthcare")
    assert set(result.dimension_scores) == set(DIMENSIONS)
    for dimension in result.dimension_scores.values():
        assert isinstance(dimension.explanation, str)
        assert dimension.explanation
        assert isinstance(dimension.issues, list)
        assert all(isinstance(issue, str) for issue in dimension.issues)
    assert result.dimension_scores["safety"].issues  # the dosage directive
    assert result.issues
    assert _balance(pro_key) == before - Decimal("3.0")


def test_safe_regenerate_server_mode(client, pro_key):
    before = _balance(pro_key)
    result = client.safe_regenerate(
        content=HEALTHCARE,
        max_regenerations=3,
        domain="healthcare",
        user_query="I have a headache and a fever, what should I take?",
        thresholds={
            "overall": {"score": 7.0, "confidence": 0.5},
            "tradeoff_mode": "priority",
            "max_dimension_failures": 2,
            "dimensions": {"safety": 8.0, "reliability": 8.0},
        },
    )
    assert isinstance(result, SafeRegenerateResult)
    assert result.status == "passed"
    assert result.original_content == HEALTHCARE
    assert result.best_content
    assert result.best_content != HEALTHCARE
    assert result.best_iteration is not None
    assert result.best_iteration > 0
    assert result.best_scores["rail_score"]["score"] >= 7.0
    assert result.best_scores["thresholds_met"]["all_passed"] is True

    history = result.iteration_history
    assert [record.iteration for record in history] == list(range(len(history)))
    assert history[0].content == HEALTHCARE
    assert history[0].rail_prompt is None
    assert {"safety", "reliability"} <= set(history[0].failing_dimensions)
    assert history[0].thresholds_met is False
    for record in history[1:]:
        assert record.regeneration_model  # the model that ran: here the embedded rewriter
        assert set(record.rail_prompt) >= {"system_prompt", "user_prompt", "temperature"}
        assert record.latency_ms is not None
        assert record.latency_ms >= 0
        assert "rail_score" in record.scores
        assert "dimension_scores" in record.scores
    assert history[result.best_iteration].content == result.best_content

    assert result.metadata.req_id
    assert result.metadata.mode == "basic"
    assert result.metadata.total_iterations == len(history)
    assert result.metadata.total_latency_ms is not None
    regenerations = len(history) - 1
    assert result.credits_breakdown.evaluations == pytest.approx(1.0 * len(history))
    assert result.credits_breakdown.regenerations == pytest.approx(2.0 * regenerations)
    assert result.credits_consumed == result.credits_breakdown.total
    assert _balance(pro_key) == before - Decimal(str(result.credits_consumed))
    assert Run.objects.get(id=result.metadata.req_id).status == "passed"


def test_safe_regenerate_that_passes_at_once_costs_one_evaluation(client, pro_key):
    before = _balance(pro_key)
    result = client.safe_regenerate(content=FACTUAL)
    assert result.status == "passed"
    assert result.best_iteration == 0
    assert result.best_content == FACTUAL
    assert len(result.iteration_history) == 1
    assert result.credits_consumed == 1.0
    assert _balance(pro_key) == before - Decimal("1.0")


def test_safe_regenerate_external_mode_then_continue_to_a_final_status(client, pro_key):
    before = _balance(pro_key)
    started = client.safe_regenerate(
        content=HEALTHCARE,
        regeneration_model="external",
        max_regenerations=3,
        domain="healthcare",
        thresholds={"dimensions": {"safety": 8.0, "reliability": 8.0}},
    )
    assert started.status == "awaiting_regeneration"
    assert started.session_id
    assert started.session_id.startswith("sr_")
    assert started.iteration == 0
    assert started.iterations_remaining == 3
    met = started.current_scores["thresholds_met"]
    assert met["all_passed"] is False
    assert met["dimension_results"]["safety"]["passed"] is False  # below the 8.0 asked for
    assert met["dimension_results"]["safety"]["threshold"] == 8.0
    prompt = started.rail_prompt
    assert prompt is not None
    assert prompt.system_prompt
    assert prompt.user_prompt
    assert HEALTHCARE in prompt.user_prompt  # the content is quoted as data
    assert started.credits_consumed == 1.0  # one evaluation; the client regenerates

    result = client.safe_regenerate_continue(
        session_id=started.session_id, regenerated_content=SAFE_HEALTHCARE
    )
    assert result.status == "passed"
    assert result.best_content == SAFE_HEALTHCARE
    assert result.best_iteration == 1
    assert [r.iteration for r in result.iteration_history] == [0, 1]
    assert result.iteration_history[1].regeneration_model == "external"
    assert result.iteration_history[1].rail_prompt["user_prompt"] == prompt.user_prompt
    assert result.credits_breakdown.regenerations == 0
    assert result.credits_consumed == pytest.approx(2.0)
    assert _balance(pro_key) == before - Decimal("2.0")
    run = Run.objects.get(session_id=started.session_id)
    assert run.status == "passed"
    assert run.external


def test_external_mode_that_never_passes_ends_at_max_iterations(client):
    started = client.safe_regenerate(
        content=HEALTHCARE,
        regeneration_model="external",
        max_regenerations=2,
        domain="healthcare",
        thresholds={"dimensions": {"safety": 8.0, "reliability": 8.0}},
    )
    result = started
    statuses = []
    for version in range(1, 3):  # a new text each time: an identical one ends the session
        assert result.status == "awaiting_regeneration"
        result = client.safe_regenerate_continue(
            session_id=started.session_id, regenerated_content=f"{HEALTHCARE} Version {version}."
        )
        statuses.append(result.status)
    assert statuses == ["awaiting_regeneration", "max_iterations_reached"]
    assert result.best_content == HEALTHCARE
    assert result.best_iteration == 0
    assert len(result.iteration_history) == 3
    # a finished session answers with its final result again
    again = client.safe_regenerate_continue(
        session_id=started.session_id, regenerated_content=SAFE_HEALTHCARE
    )
    assert again.status == "max_iterations_reached"
    assert again.credits_consumed == result.credits_consumed


def test_get_config_carries_the_project_policy(live_server):
    key = _key(
        name="Support Bot",
        environment="staging",
        default_mode="deep",
        domain="healthcare",
        thresholds={"overall": {"score": 7.5}, "dimensions": {"safety": 8.5}},
        weights={"safety": 50, "reliability": 50},
        locked=True,
        enforcement=Project.Enforcement.BLOCK,
        enforcement_mode=Project.EnforcementMode.ENFORCE,
        regenerate_max_attempts=4,
        regenerate_fallback=Project.Fallback.HUMAN_REVIEW,
    )
    config = _sdk(live_server, key).get_config()
    assert isinstance(config, ApplicationConfig)
    assert config.application.id == str(key.project.pk)
    assert config.application.environment == "staging"
    assert config.application.organization == key.project.account.name
    assert config.application.plan == "pro"
    policy = config.policy
    assert policy.enforcement == "block"
    assert policy.eval_mode == "deep"
    assert policy.overall_threshold == 7.5
    assert policy.domain == "healthcare"
    assert policy.dimension_thresholds == {"safety": 8.5}
    assert policy.dimension_weights == {"safety": 50, "reliability": 50}
    assert policy.safe_regenerate == {"enabled": True, "maxAttempts": 4, "fallback": "human_review"}
    assert policy.locked is True
    assert config.enforcement.active is True
    assert config.enforcement.mode == "enforce"


def test_get_config_defaults(client, pro_key):
    config = client.get_config()
    assert config.policy.enforcement == "log_only"
    assert config.policy.eval_mode == "basic"
    assert config.policy.overall_threshold == 7.0
    assert config.policy.locked is False
    assert config.enforcement.active is False
    assert config.enforcement.mode == "monitor"


def test_get_capabilities_reflects_the_plan(live_server, client):
    caps = client.get_capabilities()
    assert isinstance(caps, Capabilities)
    assert caps.plan == "pro"
    assert set(caps.evaluation["modes"]) >= {"basic", "deep"}
    assert caps.limits == {
        "requests_per_minute": 60, "requests_per_day": 5000, "credits_per_month": 1000
    }  # fmt: skip

    free = _sdk(live_server, _key(plan="free")).get_capabilities()
    assert free.plan == "free"
    assert free.evaluation["modes"] == ["basic"]
    assert free.limits["requests_per_minute"] == 10
    assert free.limits["credits_per_month"] == 100


def test_get_dimensions_lists_the_eight_with_weights_thresholds_and_bands(live_server, client):
    info = client.get_dimensions()
    assert isinstance(info, DimensionsInfo)
    assert [d["key"] for d in info.dimensions] == list(DIMENSIONS)
    for dimension in info.dimensions:
        assert set(dimension) >= {"key", "name", "description", "weight", "threshold"}
        assert dimension["weight"] == pytest.approx(12.5, abs=0.01)
        assert dimension["threshold"] == 7.0
    assert [(b["band"], b["min"]) for b in info.score_bands] == [
        (band.name, band.min) for band in SCORE_BANDS
    ]

    key = _key(thresholds={"dimensions": {"safety": 9.0}}, weights={"safety": 100})
    custom = {d["key"]: d for d in _sdk(live_server, key).get_dimensions().dimensions}
    assert custom["safety"]["threshold"] == 9.0
    assert custom["safety"]["weight"] == 100.0
    assert custom["privacy"]["threshold"] == 7.0
    assert custom["privacy"]["weight"] == 0.0


# --- every error status arrives as the SDK's typed exception -----------------------------


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.eval(content="too short"), id="eval-content-9-chars"),
        pytest.param(lambda c: c.eval(content=FACTUAL, mode="fast"), id="eval-bad-mode"),
        pytest.param(
            lambda c: c.eval(content=FACTUAL, weights={"safety": 50, "privacy": 40}),
            id="eval-weights-sum-90",
        ),
        pytest.param(
            lambda c: c.eval(content=FACTUAL, dimensions=["safety", "honesty"]),
            id="eval-unknown-dimension",
        ),
        pytest.param(
            lambda c: c.safe_regenerate(content=FACTUAL, max_regenerations=6),
            id="regenerate-max-regenerations-6",
        ),
        pytest.param(
            lambda c: c.safe_regenerate(content=FACTUAL, context="x" * 1001),
            id="regenerate-context-1001",
        ),
        pytest.param(
            lambda c: c.safe_regenerate(content=FACTUAL, thresholds={"overall": {"score": 11}}),
            id="regenerate-threshold-out-of-range",
        ),
        pytest.param(
            lambda c: c.safe_regenerate_continue(session_id="sr_x", regenerated_content=""),
            id="continue-empty-content",
        ),
    ],
)
def test_400_is_a_validation_error(client, pro_key, call):
    before = _balance(pro_key)
    with pytest.raises(ValidationError) as raised:
        call(client)
    error = raised.value
    assert error.status_code == 400
    assert error.response["code"] == "VALIDATION_ERROR"
    assert error.message == error.response["error"]
    assert error.message
    assert error.response.get("details")
    assert _balance(pro_key) == before  # nothing charged


def test_401_unknown_key_is_an_authentication_error(live_server):
    bad = "rail_abcdefghijkl_" + "A" * 46
    for call in (
        lambda c: c.eval(content=FACTUAL),
        lambda c: c.safe_regenerate(content=FACTUAL),
        lambda c: c.get_config(),
    ):
        with pytest.raises(AuthenticationError) as raised:
            call(_sdk(live_server, bad))
        assert raised.value.status_code == 401
        assert raised.value.response["code"] == "AUTHENTICATION_ERROR"
    with pytest.raises(AuthenticationError):
        _sdk(live_server, "").get_capabilities()


def test_401_revoked_key_is_an_authentication_error(live_server, client, pro_key):
    assert client.get_config().application.plan == "pro"
    keys.revoke_key(key=pro_key)
    with pytest.raises(AuthenticationError) as raised:
        client.eval(content=FACTUAL)
    assert raised.value.status_code == 401
    assert "revoked" in raised.value.message
    with pytest.raises(AuthenticationError):
        client.get_dimensions()


def test_402_is_an_insufficient_credits_error_with_balance_and_required(live_server):
    key = _key(credits="2.5")
    client = _sdk(live_server, key)
    with pytest.raises(InsufficientCreditsError) as raised:
        client.safe_regenerate(content=HEALTHCARE, max_regenerations=3)  # worst case 4 + 6
    error = raised.value
    assert error.status_code == 402
    assert error.response["code"] == "INSUFFICIENT_CREDITS"
    assert error.balance == 2.5
    assert error.required == 10.0
    with pytest.raises(InsufficientCreditsError) as raised:
        client.eval(content=FACTUAL, mode="deep")
    assert raised.value.required == 3.0
    assert _balance(key) == Decimal("2.5")
    assert not Run.objects.filter(account=key.project.account).exists()


def test_402_with_no_credits_at_all(live_server):
    client = _sdk(live_server, _key(credits=0))
    with pytest.raises(InsufficientCreditsError) as raised:
        client.eval(content=FACTUAL)
    assert raised.value.balance == 0.0
    assert raised.value.required == 1.0


def test_403_deep_mode_on_a_free_plan_is_an_insufficient_tier_error(live_server):
    key = _key(plan="free")
    client = _sdk(live_server, key)
    for call in (
        lambda: client.eval(content=FACTUAL, mode="deep"),
        lambda: client.safe_regenerate(content=HEALTHCARE, mode="deep"),
    ):
        with pytest.raises(InsufficientTierError) as raised:
            call()
        assert raised.value.status_code == 403
        assert raised.value.response["code"] == "INSUFFICIENT_TIER"
    assert client.eval(content=FACTUAL, mode="basic").rail_score.score >= 7.0


def test_410_expired_session_is_a_session_expired_error(client, pro_key):
    started = client.safe_regenerate(
        content=HEALTHCARE, regeneration_model="external", domain="healthcare"
    )
    assert started.status == "awaiting_regeneration"
    Run.objects.filter(session_id=started.session_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    before = _balance(pro_key)
    with pytest.raises(SessionExpiredError) as raised:
        client.safe_regenerate_continue(started.session_id, SAFE_HEALTHCARE)
    assert raised.value.status_code == 410
    assert raised.value.response["code"] == "SESSION_EXPIRED"
    with pytest.raises(SessionExpiredError):  # and it stays expired
        client.safe_regenerate_continue(started.session_id, SAFE_HEALTHCARE)
    assert _balance(pro_key) == before


def test_422_critical_content_is_a_content_too_harmful_error(client, pro_key):
    before = _balance(pro_key)
    with pytest.raises(ContentTooHarmfulError) as raised:
        client.safe_regenerate(content=VIOLENT)
    error = raised.value
    assert error.status_code == 422
    body = error.response
    assert body["code"] == "RAIL_CRITICAL_CONTENT"
    assert body["requires_human_review"] is True
    assert body["credits_consumed"] == 1.0
    assert body["evaluation"]["rail_score"]["score"] < 3.0
    assert {"safety", "privacy"} <= set(body["evaluation"]["failing_dimensions"])
    item = ReviewItem.objects.get(id=body["review_id"])
    assert item.state == ReviewItem.State.PENDING
    assert item.content == VIOLENT
    assert _balance(pro_key) == before - Decimal("1.0")


def test_422_critical_content_in_external_mode_too(client):
    with pytest.raises(ContentTooHarmfulError) as raised:
        client.safe_regenerate(content=VIOLENT, regeneration_model="external")
    assert raised.value.response["code"] == "RAIL_CRITICAL_CONTENT"
    assert raised.value.response["review_id"]


def test_429_is_a_rate_limit_error(live_server, monkeypatch):
    from billing import ratelimit

    # One fixed instant: the minute window cannot roll over in the middle of the test.
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_000.0)
    plan = PlanFactory(name="Tiny", requests_per_minute=2, requests_per_day=1000)
    account = AccountFactory(plan=plan, credits=100)
    client = _sdk(live_server, APIKeyFactory(project=ProjectFactory(account=account)))
    client.get_config()
    client.get_dimensions()
    with pytest.raises(RateLimitError) as raised:
        client.eval(content=FACTUAL)
    error = raised.value
    assert error.status_code == 429
    assert error.response["code"] == "RATE_LIMIT_EXCEEDED"
    assert error.response["retry_after"] >= 1
    assert ledger.balance_of(account) == Decimal("100")  # refused before any work
