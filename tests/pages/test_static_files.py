"""Static files in production: collected, fingerprinted and compressed, served by WhiteNoise
with a year's cache; plotly.js only on pages that draw a chart (issue 13)."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

PRODUCTION = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


@pytest.fixture(scope="module")
def collected(tmp_path_factory, django_db_blocker):
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=root, STORAGES=PRODUCTION, WHITENOISE_USE_FINDERS=False):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


def test_the_production_default_is_whitenoises_compressed_manifest_storage():
    from railsite import settings

    assert settings.STORAGES["staticfiles"]["BACKEND"] == PRODUCTION["staticfiles"]["BACKEND"]


def test_collectstatic_writes_a_fingerprinted_and_gzipped_plotly(collected):
    (hashed,) = (collected / "vendor" / "plotly").glob("plotly.min.*.js")
    gzipped = hashed.with_name(hashed.name + ".gz")
    assert re.fullmatch(r"plotly\.min\.[0-9a-f]{12}\.js", hashed.name)
    assert gzipped.stat().st_size < hashed.stat().st_size / 2


@pytest.mark.django_db
def test_whitenoise_serves_plotly_compressed_and_cached_for_a_year(collected):
    (hashed,) = (collected / "vendor" / "plotly").glob("plotly.min.*.js")
    with override_settings(
        STATIC_ROOT=collected, STORAGES=PRODUCTION, WHITENOISE_USE_FINDERS=False
    ):
        client = Client()
        response = client.get(
            f"/static/vendor/plotly/{hashed.name}", HTTP_ACCEPT_ENCODING="gzip, br"
        )
        page = client.get("/login/").content.decode()
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert int(response["Content-Length"]) < 2_000_000
    assert "immutable" in response["Cache-Control"]
    assert "max-age=315360000" in response["Cache-Control"]
    # the log-in page names the fingerprinted file for charts.js to load on demand only
    assert f'data-plotly="/static/vendor/plotly/{hashed.name}"' in page
    assert not re.search(r'<script src="[^"]*plotly', page)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/api/docs/", "/api/docs/?script=", "/admin/login/"])
def test_every_static_file_a_page_names_is_in_the_manifest(collected, path):
    """A page naming a file collectstatic did not write answers 500 in production."""
    with override_settings(
        STATIC_ROOT=collected, STORAGES=PRODUCTION, WHITENOISE_USE_FINDERS=False
    ):
        response = Client().get(path)
    assert response.status_code == 200
