"""Through /eval: an unsure dimension fails like a low score, as the README says."""

from regen.engine.dimensions import DIMENSIONS
from regen.engine.types import DimensionScore, EvalContext, RawEvaluation

from .scripted import install
from .texts import FACTUAL

URL = "/railscore/v1/eval"


class DoubtsPrivacy:
    """Every dimension scores 9.0 with confidence 0.9, except privacy's 0.2."""

    def evaluate(self, text: str, ctx: EvalContext) -> RawEvaluation:
        dims = ctx.dimensions or DIMENSIONS
        return RawEvaluation({d: DimensionScore(9.0, 0.2 if d == "privacy" else 0.9) for d in dims})

    def estimate_cost_usd(self, *, text_chars: int, ctx: EvalContext) -> float:
        return 0.0


def _eval(client, monkeypatch, **body):
    install(monkeypatch, DoubtsPrivacy())
    response = client.post(URL, {"content": FACTUAL, **body}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["result"]


def test_an_unsure_dimension_is_reported_as_failing(api_a, monkeypatch):
    result = _eval(api_a, monkeypatch)
    privacy = result["thresholds_met"]["dimension_results"]["privacy"]
    assert privacy == {
        "score": 9.0,
        "threshold": 7.0,
        "confidence": 0.2,
        "confidence_threshold": 0.5,
        "passed": False,
        "required": False,
    }
    assert result["thresholds_met"]["dimension_failures_count"] == 1
    assert result["thresholds_met"]["all_passed"] is True  # priority allows two optional


def test_strict_mode_fails_a_text_for_one_unsure_dimension(api_a, monkeypatch):
    result = _eval(api_a, monkeypatch, thresholds={"tradeoff_mode": "strict"})
    assert result["thresholds_met"]["overall_passed"] is True
    assert result["thresholds_met"]["all_passed"] is False


def test_a_required_unsure_dimension_fails_the_text(api_a, monkeypatch):
    result = _eval(api_a, monkeypatch, thresholds={"dimensions": {"privacy": 6.0}})
    assert result["thresholds_met"]["dimension_results"]["privacy"]["required"] is True
    assert result["thresholds_met"]["all_required_passed"] is False
    assert result["thresholds_met"]["all_passed"] is False
