"""Contact calls, as the vendor's /contact resource."""

from fastapi import APIRouter, Response

from audiences.contacts import service
from audiences.contacts.errors import (
    ContactAlreadyExists,
    ContactAnonymized,
    ContactNotFound,
    ContactWithoutId,
    EmailInvalid,
    PropertyInvalid,
    TooManyContacts,
)
from audiences.contacts.schemas import (
    AddContactResponse,
    AddContactsRequest,
    ContactRead,
    ContactRequest,
    PropertyRead,
)
from audiences.core.auth import CurrentPrincipal
from audiences.core.db import SessionDep
from audiences.core.errors import InvalidParams
from audiences.core.openapi import errors

router = APIRouter(prefix="/contact", tags=["Contacts"])

_WRITE_ERRORS = (EmailInvalid, PropertyInvalid, ContactWithoutId, ContactAnonymized)


@router.get("/properties/list", response_model=list[PropertyRead], responses=errors())
async def list_properties(session: SessionDep, principal: CurrentPrincipal) -> list[PropertyRead]:
    """Get all properties a contact can have."""
    return await service.list_properties(session, principal.account_id)


@router.post(
    "/list",
    response_model=list[AddContactResponse],
    responses=errors(TooManyContacts, ContactWithoutId),
)
async def add_contacts(
    body: AddContactsRequest, session: SessionDep, principal: CurrentPrincipal
) -> list[AddContactResponse]:
    """Add (or with `update`, update) at most 100 contacts; answers a code per contact."""
    return await service.add_contacts(session, principal.account_id, body)


@router.post(
    "",
    status_code=204,
    response_class=Response,
    responses=errors(*_WRITE_ERRORS, ContactAlreadyExists),
)
async def create_contact(
    body: ContactRequest, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Add a contact; an existing one is updated only when `update` is true."""
    await service.create_contact(session, principal.account_id, body)
    return Response(status_code=204)


@router.put(
    "/anonymize/{externalId}",
    status_code=204,
    response_class=Response,
    responses=errors(ContactNotFound),
)
async def anonymize_contact(
    externalId: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Anonymize a contact: every personal property and channel is removed."""
    await service.anonymize_contact(session, principal.account_id, externalId)
    return Response(status_code=204)


@router.get("/{externalId}", response_model=ContactRead, responses=errors(ContactNotFound))
async def get_contact(
    externalId: str, session: SessionDep, principal: CurrentPrincipal
) -> ContactRead:
    """Get a contact with the properties that have a value."""
    return await service.get_contact(session, principal.account_id, externalId)


@router.put(
    "/{externalId}",
    status_code=204,
    response_class=Response,
    responses=errors(
        ContactNotFound, *_WRITE_ERRORS, InvalidParams("Path id doesn't match contact id")
    ),
)
async def update_contact(
    externalId: str, body: ContactRequest, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Update a contact; with `purge`, properties not given are removed."""
    await service.update_contact(session, principal.account_id, externalId, body)
    return Response(status_code=204)
