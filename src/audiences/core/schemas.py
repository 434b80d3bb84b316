"""The base of every API shape: snake_case names in Python, the vendor's camelCase on the wire."""

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, GetJsonSchemaHandler, TypeAdapter
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


class ApiModel(BaseModel):
    """Fields are named in snake_case and travel in camelCase (`external_id` is `externalId`),
    both ways: requests are read by the wire names (Python names are accepted too), and
    responses, `model_dump()` included, are written with them."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
    )


Shape = TypeVar("Shape")


class Serialized(Generic[Shape]):
    """A hot route's answer written straight to JSON, as FastAPI would write its
    `response_model` (which still documents it), without validating again what the service
    has just built: for the calls made thousands of times a second or a hundred items a call."""

    def __init__(self, shape: type[Shape]) -> None:
        self._adapter: TypeAdapter[Shape] = TypeAdapter(shape)

    def response(self, value: Shape) -> Response:
        return Response(self._adapter.dump_json(value), media_type="application/json")


class NumbersAsStrings(ApiModel):
    """A request shape whose text fields also take numbers, as text (`"name": 7` is "7"): the
    vendor's clients send numeric ids as JSON numbers. Its JSON schema says so."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        for field in schema.get("properties", {}).values():
            _text_or_number(field)
        return schema


def required_text(rules: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` of a field the service requires but checks itself (to answer a
    missing one as the vendor does): its schema is its text type alone, never null, with
    these rules."""

    def extra(schema: dict[str, Any]) -> None:
        schema.pop("default", None)
        options = [o for o in schema.pop("anyOf", []) if o.get("type") != "null"]
        if options:
            schema.update(options[0])
        schema.update(rules)

    return extra


def _text_or_number(schema: dict[str, Any]) -> None:
    """A plain text type (no format, no fixed values) is widened to text or number."""
    if schema.get("type") == "string" and "format" not in schema and "enum" not in schema:
        schema["type"] = ["string", "number"]
    for option in schema.get("anyOf", []):
        _text_or_number(option)
    if isinstance(schema.get("items"), dict):
        _text_or_number(schema["items"])


def _whole_number(value: Any) -> Any:
    # JSON has one number type: 3.0 is the whole number 3 (as JSON Schema says), but true and
    # "3" are not numbers at all (pydantic's lax int would take both).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
"""An integer in a request: a JSON number without a fraction; never a boolean or a text."""
