"""Contact calls, as the vendor's /contact resource."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from audiences.contacts import imports, service
from audiences.contacts.errors import (
    ContactAlreadyExists,
    ContactAnonymized,
    ContactNotFound,
    ContactWithoutId,
    EmailInvalid,
    PropertyInvalid,
    TooManyContacts,
)
from audiences.contacts.imports import ImportRefused
from audiences.contacts.schemas import (
    AddContactResponse,
    AddContactsRequest,
    ContactRead,
    ContactRequest,
    ImportReport,
    PropertyRead,
)
from audiences.core.auth import CurrentPrincipal
from audiences.core.db import SessionDep
from audiences.core.errors import InvalidParams
from audiences.core.openapi import errors
from audiences.core.routing import ApiRoute
from audiences.core.uploads import UnsupportedUpload, UploadTooLarge

router = APIRouter(prefix="/contact", tags=["Contacts"], route_class=ApiRoute)

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


_IMPORT_BODY = {
    "required": True,
    "description": (
        "Contacts, streamed: application/x-ndjson (a contact object a line, as POST /contact's "
        "`contact`) or text/csv (a header of externalId and property names; empty cells are "
        "not set; permissions as enabled bits such as 1;3)."
    ),
    "content": {
        "application/x-ndjson": {
            "schema": {"type": "string"},
            "example": '{"externalId": "crm-1003", "properties": {"email": "cy@example.com"}}\n',
        },
        "text/csv": {
            "schema": {"type": "string"},
            "example": "externalId,email,firstName,permissions\ncrm-1003,cy@example.com,Cy,1\n",
        },
    },
}
OnErrorParam = Annotated[
    Literal["skip", "reject"],
    Query(description="skip: import the valid lines, report the others; reject: all or nothing"),
]


@router.post(
    "/import",
    response_model=ImportReport,
    openapi_extra={"requestBody": _IMPORT_BODY},
    responses=errors(ImportRefused(1), UnsupportedUpload, UploadTooLarge(20_000_000)),
)
async def import_contacts(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    purge: Annotated[bool, Query(description="Remove existing properties not given")] = False,
    onError: OnErrorParam = "skip",
) -> ImportReport:
    """Create or update millions of contacts from a streamed upload, in one transaction."""
    definitions = await service.definitions_by_name(session, principal.account_id)
    return await imports.import_contacts(
        session,
        principal.account_id,
        definitions,
        request.stream(),
        request.headers.get("content-type", ""),
        purge=purge,
        reject=onError == "reject",
        max_lines=request.app.state.settings.max_upload_lines,
    )


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
