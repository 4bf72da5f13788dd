"""Start-time checks of the engine settings: a misconfigured server says so when it starts.

Django runs these with ``manage.py check``, ``migrate`` and ``runserver`` (and ``make
run``); a request that reaches a misconfigured engine anyway answers 503, never a 400
blamed on the caller (``regen.engines``).
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register


@register()
def engine_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Report each engine setting that names nothing this server has."""
    from regen.engines import configuration_problems

    return [Error(problem, id="regen.E001") for problem in configuration_problems()]
