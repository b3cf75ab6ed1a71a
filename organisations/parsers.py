"""The API's JSON parser: malformed input is a 400, however it is malformed."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deeper than any Anmu request needs (the deepest, a risk evaluation, is two levels).
MAX_DEPTH = 32


def _check(data: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and NUL characters in any key or string."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ParseError(_("The request contains a NUL character, which is not allowed."))
            continue
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise ParseError(_("The JSON is nested too deeply."))
            items = list(value.keys()) + list(value.values()) if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):  # type: ignore[no-untyped-def]
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply.")) from None
        _check(data)
        return data
