"""Every answer carries a strict Content-Security-Policy and a Permissions-Policy (issue 11).

The browser tests fail on any console error, so a page that breaks the policy (an inline
script, a CDN) fails them too; this checks the headers themselves.
"""

import pytest

from railsite.middleware import CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/login/", "/health", "/railscore/v1/health", "/nowhere"])
def test_the_headers_are_on_pages_api_answers_and_errors(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    directives = dict(part.split(" ", 1) for part in csp.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "geolocation=()" in response.headers["Permissions-Policy"]
