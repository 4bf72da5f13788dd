from django.apps import AppConfig


class RegenConfig(AppConfig):
    name = "regen"
    verbose_name = "Safe regeneration"

    def ready(self) -> None:
        from regen import checks  # noqa: F401  (registers the start-time engine checks)
