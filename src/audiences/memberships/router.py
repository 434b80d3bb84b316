"""Membership calls, as the vendor's /audience/{externalId}/contact resource."""

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from audiences.api.params import ExternalIdPath
from audiences.api.routing import ApiRoute, DownloadRoute, LaggingReadRoute, UploadRoute, route
from audiences.audiences import service as audiences_service
from audiences.audiences.errors import AudienceNotFound
from audiences.auth.dependencies import AudiencePrincipal, authenticated
from audiences.core import timeutil
from audiences.core.db import SessionDep, database_of
from audiences.core.errors import ProductNotFound
from audiences.core.openapi import errors
from audiences.core.paging import AfterParam, PageSizeParam, next_paging
from audiences.core.schemas import Serialized
from audiences.core.settings import SettingsDep
from audiences.core.uploads import UnsupportedUpload, UploadTooLarge
from audiences.memberships import bulk_repository, bulk_service, service
from audiences.memberships.errors import (
    BatchTooLarge,
    ContactsNotFound,
    NotAMember,
    TooManyExports,
    UploadHasUnknownContacts,
)
from audiences.memberships.schemas import (
    ChangeContactsAudienceRequest,
    FormulasParam,
    ImportReport,
    Member,
    MembersPage,
    ReplaceReport,
)

router = APIRouter(prefix="/audience", tags=["Audience contacts"], route_class=ApiRoute)


# Matched first (routes are tried in order): the membership check is the hottest read. The
# export comes before it, or the check would take "export" for a contact id.


@route(
    router,
    "/{externalId}/contact/export",
    DownloadRoute,
    methods=["GET"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every member as CSV: externalId,email,addedAt (ISO 8601, UTC); "
            "a value that would start a spreadsheet formula gets a leading ' unless formulas=raw",
            "content": {
                "text/csv": {
                    "example": "externalId,email,addedAt\n"
                    "crm-1,a@example.com,2026-11-27T21:11:34.123Z\n"
                }
            },
        },
        **errors(ProductNotFound, AudienceNotFound, TooManyExports()),
    },
)
async def export_members(
    external_id: ExternalIdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: AudiencePrincipal,
    formulas: FormulasParam = "neutralise",
) -> StreamingResponse:
    """Export every member as CSV, streamed at constant memory."""
    audience = await audiences_service.get_audience(session, principal.account_id, external_id)
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", external_id)[:100] or "audience"
    chunks = await bulk_service.export_members(
        database_of(request).exports(),
        audience,
        bulk_service.ExportLimits.of(settings),
        neutralise=formulas == "neutralise",
    )
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


class MembershipCheckRoute(ApiRoute):
    """The membership check, the hottest read: its one statement rides with the credential
    look-up, so a check is a single round trip to the database."""

    credential_query = bulk_repository.MEMBERSHIP_CHECK

    def credential_params(self, path_params: dict[str, Any]) -> dict[str, Any]:
        return bulk_repository.membership_params(
            path_params["externalId"], path_params["contactExternalId"]
        )


async def checked_membership(
    request: Request,
    principal: AudiencePrincipal,
    externalId: Annotated[str, Path()],
    contactExternalId: Annotated[str, Path()],
) -> bulk_repository.Membership | None:
    """What the check's statement found while the caller (of an audience product) was
    authenticated. The path's ids, which the statement was given, are declared here for the
    docs rather than through `ExternalIdPath` and the like: on the hottest read, each
    dependency level costs."""
    return bulk_repository.membership_of(authenticated(request).extra)


@route(
    router,
    "/{externalId}/contact/{contactExternalId}",
    MembershipCheckRoute,
    methods=["GET"],
    response_model=Member,
    responses=errors(ProductNotFound, AudienceNotFound, NotAMember),
)
async def check_member(
    found: Annotated[bulk_repository.Membership | None, Depends(checked_membership)],
) -> Response:
    """Whether a contact is a member: 200 with its addedAt, else 404."""
    return _MEMBER.response(bulk_service.check_member(found))


_MEMBER = Serialized(Member)


@router.post(
    "/{externalId}/contact",
    status_code=204,
    response_class=Response,
    responses=errors(
        ProductNotFound, AudienceNotFound, ContactsNotFound(["crm-404"]), BatchTooLarge()
    ),
)
async def add_members(
    external_id: ExternalIdPath,
    body: ChangeContactsAudienceRequest,
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    principal: AudiencePrincipal,
) -> Response:
    """Add contacts to an audience (at most 2500 ids). Atomic: if any contact is unknown,
    nothing is added and every unknown id is listed."""
    limit = settings.max_batch_ids
    await service.add_members(session, principal.account_id, external_id, body.contacts, limit)
    return Response(status_code=204)


@router.delete(
    "/{externalId}/contact",
    status_code=204,
    response_class=Response,
    responses=errors(ProductNotFound, AudienceNotFound, BatchTooLarge()),
)
async def remove_members(
    external_id: ExternalIdPath,
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    principal: AudiencePrincipal,
    body: Annotated[
        ChangeContactsAudienceRequest | None,
        Body(description="Ids to remove. No body, an empty body or `null` empties the audience."),
    ] = None,
) -> Response:
    """Remove contacts from an audience (at most 2500 ids); without a body, empty it.
    Unknown ids and non-members are ignored."""
    limit = settings.max_batch_ids
    contacts = body.contacts if body is not None else None
    await service.remove_members(session, principal.account_id, external_id, contacts, limit)
    return Response(status_code=204)


_NDJSON_ID = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "properties": {"externalId": {"type": "string"}},
            "required": ["externalId"],
        },
    ]
}
_UPLOAD_BODY = {
    # No body is an upload of no ids (the vendor's DELETE empties an audience the same way).
    "required": False,
    "description": (
        "The contact externalIds, streamed: text/plain one id a line, text/csv with an "
        "externalId column, or application/x-ndjson (a JSON string or "
        '{"externalId": ...} a line). Millions per request. No body is an upload of no ids.'
    ),
    "content": {
        "text/plain": {
            # \x01 and \x02 are the COPY's quote and delimiter, NUL no text holds: a line with
            # one is refused (no id contains a control character).
            "schema": {"type": "string", "pattern": "^[^\\x00-\\x02]*$"},
            "example": "crm-1001\ncrm-1002\n",
        },
        "text/csv": {"schema": {"type": "string"}, "example": "externalId,segment\ncrm-1001,a\n"},
        "application/x-ndjson": {
            # The lines, each a JSON value: a sequence of them (no "type": a lone value is a
            # body of one line).
            "schema": {"items": _NDJSON_ID},
            "example": '"crm-1001"\n{"externalId": "crm-1002"}\n',
        },
    },
}
_UPLOAD_ERRORS = (
    ProductNotFound,
    AudienceNotFound,
    UploadHasUnknownContacts(2, ["crm-404", "crm-405"]),
    UploadTooLarge(20_000_000),
    UnsupportedUpload,
)
UnknownParam = Annotated[
    Literal["reject", "skip"],
    Query(
        description="reject: any unknown id refuses the upload (nothing changes); skip: report them"
    ),
]


@route(
    router,
    "/{externalId}/contact/import",
    UploadRoute,
    methods=["POST"],
    response_model=ImportReport,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses=errors(*_UPLOAD_ERRORS),
)
async def import_members(
    external_id: ExternalIdPath,
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    principal: AudiencePrincipal,
    unknown: UnknownParam = "reject",
) -> ImportReport:
    """Add millions of contacts to an audience from a streamed upload, in one transaction."""
    return await bulk_service.import_members(
        session,
        principal.account_id,
        external_id,
        request.stream(),
        request.headers.get("content-type", ""),
        skip_unknown=unknown == "skip",
        max_lines=settings.max_upload_lines,
    )


@route(
    router,
    "/{externalId}/contact",
    UploadRoute,
    methods=["PUT"],
    response_model=ReplaceReport,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses=errors(*_UPLOAD_ERRORS),
)
async def replace_members(
    external_id: ExternalIdPath,
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    principal: AudiencePrincipal,
    unknown: UnknownParam = "reject",
    dry_run: Annotated[
        bool,
        Query(alias="dryRun", description="Answer the difference without changing anything"),
    ] = False,
) -> ReplaceReport:
    """Make the audience's members exactly the uploaded set, atomically: readers see the old
    set or the new one, never a mix."""
    return await bulk_service.replace_members(
        session,
        principal.account_id,
        external_id,
        request.stream(),
        request.headers.get("content-type", ""),
        skip_unknown=unknown == "skip",
        dry_run=dry_run,
        max_lines=settings.max_upload_lines,
    )


@route(
    router,
    "/{externalId}/contact",
    LaggingReadRoute,
    methods=["GET"],
    response_model=MembersPage,
    responses=errors(ProductNotFound, AudienceNotFound),
)
async def list_members(
    external_id: ExternalIdPath,
    request: Request,
    session: SessionDep,
    principal: AudiencePrincipal,
    after: AfterParam = None,
    page_size: PageSizeParam = 100,
    added_since: Annotated[
        str | None,
        Query(
            alias="addedSince",
            description="Only members added at or after this (epoch ms or ISO 8601)",
            json_schema_extra=timeutil.OPTIONAL_MOMENT_SCHEMA,
        ),
    ] = None,
) -> MembersPage:
    """The members, in keyset pages that neither skip nor repeat while members change."""
    members, last = await bulk_service.list_members(
        session, principal.account_id, external_id, after or 0, page_size, added_since
    )
    return MembersPage(
        paging=next_paging(request, last, len(members) == page_size), contacts=members
    )
