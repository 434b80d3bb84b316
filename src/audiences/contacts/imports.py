"""Bulk contact import: the records of an upload (import_formats.py) validated line by line as
they stream into a staging table, then upserted in one statement of the request's
transaction."""

from collections.abc import AsyncIterator
from typing import Any

from pydantic_core import to_json
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.contacts import bulk_repository
from audiences.contacts.import_formats import (
    Given,
    LineError,
    import_format,
    open_upload,
)
from audiences.contacts.properties import Definition
from audiences.contacts.schemas import ImportError, ImportReport
from audiences.contacts.values import PropertyValueError, ValueNormalizer
from audiences.core.errors import DomainError
from audiences.core.retry import retry_statement
from audiences.core.statements import driver_connection
from audiences.core.uploads import UploadFormat
from audiences.core.validation import valid_external_id

MAX_REPORTED_ERRORS = 1000


class ImportRefused(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"

    def __init__(self, failed: int = 1, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(
            f"{failed} line(s) have errors; nothing was imported (onError=reject)",
            failed=failed,
            errors=errors or [],
        )


def staged_row(
    definitions: dict[str, Definition],
    normalize: ValueNormalizer,
    line: int,
    contact: Given,
) -> tuple[Any, ...]:
    """The staging row of one contact, or LineError saying what is wrong with it."""
    external_id = contact.external_id
    if not external_id:
        raise LineError("ERROR", "Contact without externalId")
    if not valid_external_id(external_id):
        raise LineError(
            "ERROR", "externalId must be 1 to 255 characters without control characters"
        )
    given: dict[str, Any] = {}
    removed: list[str] = []
    for name, raw in (contact.properties or {}).items():
        definition = definitions.get(name)
        try:
            if definition is None:
                raise PropertyValueError(name, "is not a property of this account")
            value = normalize(definition, raw)
        except PropertyValueError as exc:
            message = (
                "Email is invalid"
                if definition and definition.type == "email"
                else "Property is invalid"
            )
            raise LineError("PROPERTY_INVALID", f"{message}: {exc.name} {exc.reason}") from exc
        if value is None:
            removed.append(name)
        else:
            given[name] = value
    channels = {c.name: c.value for c in contact.channels} if contact.channels else {}
    return (
        line,
        external_id,
        # pydantic-core's encoder: the standard library's took a tenth of an import's time.
        to_json(given).decode(),
        removed or None,
        contact.test_group,
        channels.get("EMAIL"),
        channels.get("SMS"),
    )


async def import_contacts(
    session: AsyncSession,
    account_id: int,
    definitions: dict[str, Definition],
    body: AsyncIterator[bytes],
    content_type: str,
    *,
    purge: bool,
    reject: bool,
    max_lines: int,
) -> ImportReport:
    """Creates or updates every valid contact of the upload; invalid lines are reported by
    number (with onError=reject, any of them refuses the whole import)."""
    fmt = import_format(content_type)
    upload = open_upload(fmt, body, max_lines)
    normalize = ValueNormalizer(csv=fmt is UploadFormat.CSV)
    connection = await driver_connection(session)
    await bulk_repository.create_staging(connection)
    errors: list[ImportError] = []
    received = failed = 0
    async with connection.cursor() as cursor, cursor.copy(bulk_repository.copy_statement()) as copy:
        async for batch in upload.batches():
            for number, record in batch:
                item = upload.contact(record)
                if item is None:
                    continue
                received += 1
                try:
                    if isinstance(item, LineError):
                        raise item
                    await copy.write_row(staged_row(definitions, normalize, number, item))
                except LineError as exc:
                    failed += 1
                    if len(errors) < MAX_REPORTED_ERRORS:
                        external_id = getattr(item, "external_id", None)
                        errors.append(
                            ImportError(
                                line=number,
                                external_id=external_id,
                                code=exc.code,
                                message=exc.message,
                            )
                        )
    if failed and reject:
        raise ImportRefused(failed, [e.model_dump() for e in errors])
    await bulk_repository.settle_staging(session, account_id)
    anonymized, lines = await bulk_repository.anonymized_lines(
        session, MAX_REPORTED_ERRORS - len(errors)
    )
    for row in lines:
        errors.append(
            ImportError(
                line=row.line,
                external_id=row.external_id,
                code="ERROR",
                message="Contact is anonymized and can no longer be changed",
            )
        )
    if anonymized and reject:
        raise ImportRefused(failed + anonymized, [e.model_dump() for e in errors])

    async def upsert() -> Row[Any]:
        await bulk_repository.lock_existing(session, account_id)
        return await bulk_repository.upsert_contacts(session, account_id, purge)

    # Our own writers lock contacts in externalId order and cannot deadlock each other; a
    # foreign writer that does not (an operator's SQL) can, and then only these statements
    # run again, the staged upload kept.
    result = await retry_statement(session, upsert)
    await bulk_repository.drop_staging(session)
    errors.sort(key=lambda e: e.line)
    return ImportReport(
        received=received,
        created=int(result.created),
        updated=int(result.updated),
        failed=failed + anonymized,
        duplicates=received - failed - int(result.distinct_ids),
        errors=errors,
    )
