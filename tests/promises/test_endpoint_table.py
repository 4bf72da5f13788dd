"""README quick start and endpoint table: the pieces no other test pins."""

import pytest
from django.db import connection

IDEMPOTENT_POSTS = [
    "/railscore/v1/eval",
    "/railscore/v1/safe-regenerate",
    "/railscore/v1/safe-regenerate/continue",
    "/railscore/v1/review-items/{item_id}/decision",
    "/api/v1/evals/safe-regenerate",
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()


def test_the_interactive_docs_are_served(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200


def test_the_interactive_docs_load_no_script_from_a_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr" not in page
    assert "unpkg.com" not in page


def test_health_answers_503_in_the_error_shape_when_the_database_is_down(client, monkeypatch):
    def down():
        raise OSError("database down")

    monkeypatch.setattr(connection, "cursor", down)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"


@pytest.mark.parametrize("path", IDEMPOTENT_POSTS)
def test_the_schema_documents_the_409_of_every_idempotent_post(schema, path):
    assert "409" in schema["paths"][path]["post"]["responses"]


def test_the_schema_documents_the_410_of_an_expired_session(schema):
    responses = schema["paths"]["/railscore/v1/safe-regenerate/continue"]["post"]["responses"]
    assert "410" in responses


def test_the_schema_documents_the_202_of_an_async_job(schema):
    assert "202" in schema["paths"]["/railscore/v1/safe-regenerate"]["post"]["responses"]


@pytest.mark.parametrize(("path", "status"), [("/health", 200), ("/railscore/v1/config", 301)])
def test_with_ssl_redirect_on_only_health_answers_plain_http(db, client, settings, path, status):
    settings.SECURE_SSL_REDIRECT = True  # SecurityMiddleware reads it per request
    assert client.get(path).status_code == status
