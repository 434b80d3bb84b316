"""Contact calls, as the vendor's /contact resource."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from audiences.api.params import ExternalIdPath
from audiences.api.routing import ApiRoute, UploadRoute, route
from audiences.auth.dependencies import CurrentPrincipal
from audiences.contacts import definitions, imports, queries, search, service
from audiences.contacts.errors import (
    ContactAlreadyExists,
    ContactAnonymized,
    ContactNotFound,
    ContactWithoutId,
    EmailInvalid,
    FromDateInvalid,
    PropertyInvalid,
    SearchQueryInvalid,
    ToDateInvalid,
    TooManyContacts,
)
from audiences.contacts.imports import ImportRefused
from audiences.contacts.page_schemas import (
    BouncesResponse,
    CampaignMailingHistoryResponse,
    ContactsResponse,
    FormHistoryResponse,
    MailingHistoryResponse,
)
from audiences.contacts.property_router import router as property_router
from audiences.contacts.schemas import (
    AddContactResponse,
    AddContactsRequest,
    ContactRead,
    ContactRequest,
    ImportReport,
    NewContactRequest,
    PropertyRead,
)
from audiences.core import timeutil
from audiences.core.db import SessionDep
from audiences.core.errors import InvalidParams
from audiences.core.openapi import REQUIRED, errors
from audiences.core.paging import (
    DEFAULT_PAGE_SIZE,
    AfterParam,
    PageSizeParam,
    Paging,
    next_paging,
)
from audiences.core.schemas import Serialized
from audiences.core.settings import SettingsDep
from audiences.core.uploads import UnsupportedUpload, UploadTooLarge

contact_router = APIRouter(prefix="/contact", tags=["Contacts"], route_class=ApiRoute)

_WRITE_ERRORS = (EmailInvalid, PropertyInvalid, ContactWithoutId, ContactAnonymized)
_PERIOD_ERRORS = (
    FromDateInvalid,
    ToDateInvalid,
    InvalidParams("fromDate must not be after toDate"),
)
SearchQueryParam = Annotated[
    str,
    Query(
        description="name=value: externalId, encryptedId or a property of the account, such as "
        "email=ann@example.com (see docs/api.md for how each type compares)",
        examples=["email=ann@example.com"],
        json_schema_extra={"pattern": "^[^=\\x00]*=[^\\x00]*$", "maxLength": search.MAX_QUERY},
    ),
]
# Required, but checked by the service so that a missing date gets the vendor's message.
_MOMENT = "Required. ISO 8601 (or epoch milliseconds); included"
_REQUIRED_MOMENT = {**timeutil.MOMENT_SCHEMA, REQUIRED: True}
FromDateParam = Annotated[
    str | None, Query(alias="fromDate", description=_MOMENT, json_schema_extra=_REQUIRED_MOMENT)
]
ToDateParam = Annotated[
    str | None, Query(alias="toDate", description=_MOMENT, json_schema_extra=_REQUIRED_MOMENT)
]


@contact_router.get("/properties/list", response_model=list[PropertyRead], responses=errors())
async def list_properties(session: SessionDep, principal: CurrentPrincipal) -> list[PropertyRead]:
    """Get all properties a contact can have: the standard ones and the account's own."""
    return await definitions.vendor_properties(session, principal.account_id)


@contact_router.post(
    "/list",
    response_model=list[AddContactResponse],
    responses=errors(TooManyContacts, ContactWithoutId),
)
async def add_contacts(
    body: AddContactsRequest, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Add (or with `update`, update) at most 100 contacts; answers a code per contact."""
    return _LIST_RESULTS.response(await service.add_contacts(session, principal.account_id, body))


_LIST_RESULTS = Serialized(list[AddContactResponse])


_IMPORT_BODY = {
    "required": True,
    "description": (
        "Contacts, streamed: application/x-ndjson (a contact object a line, as POST /contact's "
        "`contact`) or text/csv (a header of externalId and property names; empty cells are "
        "not set; permissions as enabled bits such as 1;3)."
    ),
    "content": {
        "application/x-ndjson": {
            # The lines, each a JSON value: a sequence of contacts. Any line is taken: one
            # that is not a contact is that line's error (reported, or refusing the import).
            # No "type": a lone value is a body of one line.
            "schema": {
                "items": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/ContactIn"},
                        {"description": "Any other line: reported as that line's error"},
                    ]
                },
            },
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
    Query(
        alias="onError",
        description="skip: import the valid lines, report the others; reject: all or nothing",
    ),
]


@route(
    contact_router,
    "/import",
    UploadRoute,
    methods=["POST"],
    response_model=ImportReport,
    openapi_extra={"requestBody": _IMPORT_BODY},
    responses=errors(ImportRefused(1), UnsupportedUpload, UploadTooLarge(20_000_000)),
)
async def import_contacts(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    purge: Annotated[bool, Query(description="Remove existing properties not given")] = False,
    on_error: OnErrorParam = "skip",
) -> ImportReport:
    """Create or update millions of contacts from a streamed upload, in one transaction."""
    return await imports.import_contacts(
        session,
        principal.account_id,
        await definitions.definitions_by_name(session, principal.account_id),
        request.stream(),
        request.headers.get("content-type", ""),
        purge=purge,
        reject=on_error == "reject",
        max_lines=settings.max_upload_lines,
    )


@contact_router.post(
    "",
    status_code=204,
    response_class=Response,
    responses=errors(*_WRITE_ERRORS, ContactAlreadyExists),
)
async def create_contact(
    body: NewContactRequest, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Add a contact; an existing one is updated only when `update` is true."""
    await service.create_contact(session, principal.account_id, body)
    return Response(status_code=204)


@contact_router.put(
    "/anonymize/{externalId}",
    status_code=204,
    response_class=Response,
    responses=errors(ContactNotFound),
)
async def anonymize_contact(
    external_id: ExternalIdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Anonymize a contact: every personal property and channel is removed."""
    await service.anonymize_contact(session, principal.account_id, external_id)
    return Response(status_code=204)


@contact_router.get(
    "/search",
    response_model=ContactsResponse,
    responses=errors(SearchQueryInvalid),
)
async def search_contacts(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    MPSearchQuery: SearchQueryParam,
    after: AfterParam = None,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> ContactsResponse:
    """Get contacts by a property value (or externalId, encryptedId), paged."""
    contacts, last = await queries.search_contacts(
        session, principal.account_id, MPSearchQuery, after or 0, page_size
    )
    return ContactsResponse(
        paging=next_paging(request, last, len(contacts) == page_size), contacts=contacts
    )


@contact_router.get(
    "/updates/list",
    response_model=ContactsResponse,
    responses=errors(*_PERIOD_ERRORS),
)
async def list_updated_contacts(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    from_date: FromDateParam = None,
    to_date: ToDateParam = None,
    after: AfterParam = None,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> ContactsResponse:
    """Get contacts changed between fromDate and toDate, paged."""
    contacts, last = await queries.updated_contacts(
        session, principal.account_id, from_date, to_date, after or 0, page_size
    )
    return ContactsResponse(
        paging=next_paging(request, last, len(contacts) == page_size), contacts=contacts
    )


@contact_router.get(
    "/bounces/list",
    response_model=BouncesResponse,
    responses=errors(*_PERIOD_ERRORS),
)
async def list_bounced_contacts(
    principal: CurrentPrincipal,
    from_date: FromDateParam = None,
    to_date: ToDateParam = None,
    after: AfterParam = None,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> BouncesResponse:
    """Get contacts that bounced between fromDate and toDate (none: this service sends no
    e-mail)."""
    queries.period(from_date, to_date)
    return BouncesResponse(paging=Paging(), bounces=[])


@contact_router.get(
    "/{externalId}/mailings",
    response_model=MailingHistoryResponse,
    responses=errors(ContactNotFound),
)
async def get_mailing_history(
    request: Request,
    external_id: ExternalIdPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    after: AfterParam = None,
) -> MailingHistoryResponse:
    """Get the mailings a contact received: completed mailings and automailer runs, 50 a page."""
    page, last = await queries.mailing_history(
        session, principal.account_id, external_id, after or 0
    )
    return MailingHistoryResponse(
        paging=next_paging(request, last, len(page) == queries.HISTORY_PAGE),
        mailing_histories=page,
    )


@contact_router.get(
    "/{externalId}/campaign-mailings",
    response_model=CampaignMailingHistoryResponse,
    responses=errors(ContactNotFound),
)
async def get_campaign_mailing_history(
    external_id: ExternalIdPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    after: AfterParam = None,
) -> CampaignMailingHistoryResponse:
    """Get the campaign mailings a contact received (none: campaigns here send no mail)."""
    await queries.require_contact(session, principal.account_id, external_id)
    return CampaignMailingHistoryResponse(paging=Paging(), campaign_mailing_histories=[])


@contact_router.get(
    "/{externalId}/forms",
    response_model=FormHistoryResponse,
    responses=errors(ContactNotFound),
)
async def get_form_history(
    external_id: ExternalIdPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    after: AfterParam = None,
    page_size: PageSizeParam = DEFAULT_PAGE_SIZE,
) -> FormHistoryResponse:
    """Get the forms a contact submitted (none: this service has no forms)."""
    await queries.require_contact(session, principal.account_id, external_id)
    return FormHistoryResponse(paging=Paging(), form_histories=[])


@contact_router.get("/{externalId}", response_model=ContactRead, responses=errors(ContactNotFound))
async def get_contact(
    external_id: ExternalIdPath, session: SessionDep, principal: CurrentPrincipal
) -> ContactRead:
    """Get a contact with the properties that have a value."""
    return await service.get_contact(session, principal.account_id, external_id)


@contact_router.put(
    "/{externalId}",
    status_code=204,
    response_class=Response,
    responses=errors(
        ContactNotFound, *_WRITE_ERRORS, InvalidParams("Path id doesn't match contact id")
    ),
)
async def update_contact(
    external_id: ExternalIdPath,
    body: ContactRequest,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    """Update a contact; with `purge`, properties not given are removed."""
    await service.update_contact(session, principal.account_id, external_id, body)
    return Response(status_code=204)


# The extension's property routes beside the vendor's contact calls, each under its own tag.
router = APIRouter()
router.include_router(contact_router)
router.include_router(property_router)
