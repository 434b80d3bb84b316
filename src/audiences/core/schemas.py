"""The base of every API shape: snake_case names in Python, the vendor's camelCase on the wire."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


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
