"""Serializer fields for our APIs that take JSON as typed: a string is a string.

DRF turns `5` into `"5"` and `"true"` into `True`; our OpenAPI schema says otherwise, and a
client sending the wrong type has a bug we should tell it about (400), not guess around.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class _Typed:
    json_types: tuple[type, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, self.json_types) or (
            isinstance(data, bool) and bool not in self.json_types
        ):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(_Typed, serializers.CharField):
    json_types = (str,)


class StrictRegexField(_Typed, serializers.RegexField):
    json_types = (str,)


class StrictBooleanField(_Typed, serializers.BooleanField):
    json_types = (bool,)


class StrictIntegerField(_Typed, serializers.IntegerField):
    json_types = (int,)
