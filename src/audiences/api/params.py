"""The path parameters of the vendor's URL templates (`/audience/{externalId}`): declared once
under their wire names, so that handlers take them in snake_case."""

from typing import Annotated

from fastapi import Depends, Path

# Each function's parameter is named as in the path template (FastAPI matches a path parameter
# by its Python name); the value reaches handlers under a snake_case name. `async def`: FastAPI
# runs a plain `def` dependency in a thread of the pool, a hop per request.


async def _external_id(externalId: Annotated[str, Path()]) -> str:
    return externalId


async def _encrypted_id(encryptedId: Annotated[str, Path()]) -> str:
    return encryptedId


async def _step_id(stepId: Annotated[str, Path()]) -> str:
    return stepId


ExternalIdPath = Annotated[str, Depends(_external_id)]
EncryptedIdPath = Annotated[str, Depends(_encrypted_id)]
StepIdPath = Annotated[str, Depends(_step_id)]
