"""Account-defined contact properties and a set's entries, such as the permissions (extension)."""

from fastapi import APIRouter, Response

from audiences.api.routing import ApiRoute
from audiences.auth.dependencies import CurrentPrincipal
from audiences.contacts import definitions
from audiences.contacts.errors import (
    PropertyDefinitionInvalid,
    PropertyLimitReached,
    PropertyNameTaken,
    PropertyNotFound,
    StandardPropertyKept,
)
from audiences.contacts.schemas import DefinedProperty, PropertyCreate, PropertyUpdate
from audiences.core.db import SessionDep
from audiences.core.errors import InvalidParams
from audiences.core.openapi import errors

TAG = "Contact properties"
router = APIRouter(prefix="/contact/properties", tags=[TAG], route_class=ApiRoute)


@router.post(
    "",
    status_code=201,
    response_model=DefinedProperty,
    responses=errors(
        PropertyDefinitionInvalid("A set needs its entries: [{bit, description, rank?}]"),
        PropertyNameTaken,
        PropertyLimitReached,
    ),
)
async def create_property(
    body: PropertyCreate, session: SessionDep, principal: CurrentPrincipal
) -> DefinedProperty:
    """Define a contact property of one of the vendor's types (a set with its entries).

    Extension. The name is unique in the account whatever its case; the property then appears
    in GET /contact/properties/list and every contact write validates it by its type."""
    return await definitions.add_property(session, principal.account_id, body)


@router.put(
    "/{name}",
    response_model=DefinedProperty,
    responses=errors(
        PropertyNotFound,
        PropertyDefinitionInvalid("A property's type cannot change"),
        InvalidParams("Path name doesn't match property name"),
    ),
)
async def update_property(
    name: str, body: PropertyUpdate, session: SessionDep, principal: CurrentPrincipal
) -> DefinedProperty:
    """Change a property's description, or a set's entries (such as the permissions).

    Extension. Standard properties too. `entries` replaces all of them: a bit left out is
    removed from every contact's value."""
    return await definitions.update_property(session, principal.account_id, name, body)


@router.delete(
    "/{name}",
    status_code=204,
    response_class=Response,
    responses=errors(PropertyNotFound, StandardPropertyKept),
)
async def delete_property(name: str, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Remove an account-defined property, and its value from every contact.

    Extension. Standard properties cannot be removed."""
    await definitions.remove_property(session, principal.account_id, name)
    return Response(status_code=204)
