from django.apps import AppConfig


class RegenConfig(AppConfig):
    name = "regen"
    verbose_name = "Safe regeneration"
