"""drf-spectacular: document API-key authentication as HTTP Bearer."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "billing.authentication.APIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key, rail_<prefix>_<secret>, in the Authorization header.",
        }
