"""The API's JSON parser: what Python's ``json`` accepts but the service cannot keep.

DRF's own parser lets three things through that fail later, after work or a charge:
nesting deep enough to exhaust the recursion limit (a 500), lone UTF-16 surrogates
(``"\\ud800"``: a ``str`` no encoder will write, so the database or the response fails),
and NUL characters (PostgreSQL text cannot hold them). Each is a 400 in the contract's
shape here, before any view runs, so nothing is charged or stored.
"""

from __future__ import annotations

import codecs
import json
from typing import IO, Any, Final

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH: Final = 32
"""No request of the contract nests deeper than 5; 32 leaves room for clients' extras."""


def _bad_string(value: str) -> str | None:
    """Say what makes ``value`` unusable, or None."""
    if "\x00" in value:
        return "a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone UTF-16 surrogate"
    return None


def check(data: Any) -> None:
    """Raise ParseError if ``data`` nests deeper than MAX_DEPTH or holds a bad string.

    Walks the value iteratively, so a hostile depth cannot overflow the stack here.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            problem = _bad_string(value)
            if problem:
                raise ParseError(f"JSON parse error - the body contains {problem}.")
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise ParseError(f"JSON parse error - the body nests deeper than {MAX_DEPTH} levels.")
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        else:
            stack.extend((item, depth + 1) for item in value)


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies the service could not keep (see the module)."""

    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError as error:
            raise ParseError(
                f"JSON parse error - the body nests deeper than {MAX_DEPTH} levels."
            ) from error
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"JSON parse error - {error}") from error
        check(data)
        return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
