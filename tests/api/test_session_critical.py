"""A critical version posted to /continue is the first call's 422: reviewed, charged, final."""

from billing import ledger
from billing.models import Hold
from regen.models import ReviewItem, Run

from .texts import HIRING, VIOLENT

START = "/railscore/v1/safe-regenerate"
CONTINUE = START + "/continue"


def _open(client, **extra):
    body = {"content": HIRING, "regeneration_model": "external", **extra}
    return client.post(START, body, format="json").json()["result"]["session_id"]


def _continue(client, session, content=VIOLENT, **headers):
    body = {"session_id": session, "regenerated_content": content}
    return client.post(CONTINUE, body, format="json", **headers)


def test_the_422_has_the_same_keys_as_the_first_calls_422(api_a):
    first = api_a.post(START, {"content": VIOLENT, "regeneration_model": "external"}, format="json")
    continued = _continue(api_a, _open(api_a))
    assert set(continued.json()) == set(first.json())


def test_the_422_names_the_review_item_of_the_critical_version(api_a):
    session = _open(api_a)
    body = _continue(api_a, session).json()
    item = ReviewItem.objects.get(run__session_id=session)
    assert body["review_id"] == str(item.id)


def test_the_review_item_holds_the_critical_text_as_critical(api_a):
    session = _open(api_a)
    _continue(api_a, session)
    item = ReviewItem.objects.get(run__session_id=session)
    assert item.reason == ReviewItem.Reason.CRITICAL
    assert item.content == VIOLENT


def test_the_422_scores_the_critical_version_not_the_original(api_a):
    session = _open(api_a)
    body = _continue(api_a, session).json()
    item = ReviewItem.objects.get(run__session_id=session)
    assert body["evaluation"]["rail_score"]["score"] == item.score


def test_the_422_reports_the_sessions_credits(api_a):
    body = _continue(api_a, _open(api_a)).json()
    assert body["credits_consumed"] == 2.0  # the opening and this continue


def test_the_critical_continue_charges_exactly_one_evaluation(api_a, account_a):
    session = _open(api_a)
    before = ledger.balance_of(account_a)
    _continue(api_a, session)
    assert before - ledger.balance_of(account_a) == 1


def test_the_critical_continue_leaves_no_credits_held(api_a, account_a):
    session = _open(api_a)
    _continue(api_a, session)
    assert ledger.available_of(account_a) == ledger.balance_of(account_a)
    assert Run.objects.get(session_id=session).hold.state == Hold.State.SETTLED


def test_the_session_ends_as_critical(api_a):
    session = _open(api_a)
    _continue(api_a, session)
    run = Run.objects.get(session_id=session)
    assert run.status == Run.Status.CRITICAL
    assert run.finished_at is not None


def test_a_critical_last_allowed_version_is_critical_not_max_iterations(api_a):
    session = _open(api_a, max_regenerations=1)
    response = _continue(api_a, session)
    assert response.status_code == 422
    assert Run.objects.get(session_id=session).status == Run.Status.CRITICAL


def test_a_replay_with_the_same_key_answers_the_same_422(api_a):
    session = _open(api_a)
    first = _continue(api_a, session, HTTP_IDEMPOTENCY_KEY="crit-1")
    again = _continue(api_a, session, HTTP_IDEMPOTENCY_KEY="crit-1")
    assert again.status_code == 422
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"


def test_a_replay_with_the_same_key_makes_no_second_review_item_and_is_free(api_a, account_a):
    session = _open(api_a)
    _continue(api_a, session, HTTP_IDEMPOTENCY_KEY="crit-2")
    balance = ledger.balance_of(account_a)
    _continue(api_a, session, HTTP_IDEMPOTENCY_KEY="crit-2")
    assert ReviewItem.objects.filter(run__session_id=session).count() == 1
    assert ledger.balance_of(account_a) == balance


def test_a_further_continue_answers_the_same_422_again(api_a):
    session = _open(api_a)
    first = _continue(api_a, session)
    again = _continue(api_a, session, content=HIRING + " Also hire fast.")
    assert again.status_code == 422
    assert again.json() == first.json()


def test_a_further_continue_is_free_and_adds_no_iteration(api_a, account_a):
    session = _open(api_a)
    _continue(api_a, session)
    balance = ledger.balance_of(account_a)
    _continue(api_a, session, content=HIRING + " Also hire fast.")
    assert ledger.balance_of(account_a) == balance
    assert Run.objects.get(session_id=session).iterations.count() == 2


def test_another_account_cannot_see_the_review_item(api_a, api_b):
    review_id = _continue(api_a, _open(api_a)).json()["review_id"]
    assert api_b.get(f"/railscore/v1/review-items/{review_id}").status_code == 404
    assert api_a.get(f"/railscore/v1/review-items/{review_id}").status_code == 200
