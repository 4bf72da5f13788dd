from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Accounts, keys and credits"

    def ready(self) -> None:
        from billing.api import schema  # noqa: F401  (registers the OpenAPI auth extension)
