"""Rules for the vendor's contact listings: search, updated contacts, and a contact's mailing,
campaign-mailing and form history, bounces (of what this service records)."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from audiences.contacts import query_repository
from audiences.contacts.definitions import definitions_by_name
from audiences.contacts.errors import ContactNotFound, FromDateInvalid, ToDateInvalid
from audiences.contacts.page_schemas import MailingHistory, MailingSummary
from audiences.contacts.schemas import ContactRead
from audiences.contacts.search import parse_moment, parse_query
from audiences.contacts.service import to_read
from audiences.core.errors import InvalidParams

# The vendor's fixed page size for a contact's mailing history.
HISTORY_PAGE = 50


async def search_contacts(
    session: AsyncSession, account_id: int, query: str | None, after: int, limit: int
) -> tuple[list[ContactRead], int | None]:
    """A page of the contacts MPSearchQuery finds, in contact order after the cursor."""
    definitions = await definitions_by_name(session, account_id)
    condition = parse_query(query, definitions)
    rows = await query_repository.search_page(session, account_id, condition, after, limit)
    return [to_read(r, definitions) for r in rows], rows[-1].contact_id if rows else None


def period(from_date: str | None, to_date: str | None) -> tuple[datetime, datetime]:
    """The vendor's required fromDate and toDate, with its messages when one is missing."""
    since = parse_moment(from_date, FromDateInvalid)
    until = parse_moment(to_date, ToDateInvalid)
    if since > until:
        raise InvalidParams("fromDate must not be after toDate")
    return since, until


async def updated_contacts(
    session: AsyncSession,
    account_id: int,
    from_date: str | None,
    to_date: str | None,
    after: int,
    limit: int,
) -> tuple[list[ContactRead], int | None]:
    """A page of the contacts last changed between fromDate and toDate (both included)."""
    since, until = period(from_date, to_date)
    definitions = await definitions_by_name(session, account_id)
    rows = await query_repository.updated_page(session, account_id, since, until, after, limit)
    return [to_read(r, definitions) for r in rows], rows[-1].contact_id if rows else None


async def require_contact(session: AsyncSession, account_id: int, external_id: str) -> int:
    key = await query_repository.contact_key(session, account_id, external_id)
    if key is None:
        raise ContactNotFound()
    return key


async def mailing_history(
    session: AsyncSession, account_id: int, external_id: str, after: int
) -> tuple[list[MailingHistory], int | None]:
    """The mailings and automailers that reached the contact, in the order they were sent."""
    contact_id = await require_contact(session, account_id, external_id)
    rows = await query_repository.mailing_history(
        session, account_id, contact_id, after, HISTORY_PAGE
    )
    page = [
        MailingHistory(
            mailing=MailingSummary(
                encrypted_id=r.encrypted_id,
                name=r.name,
                scheduled_start_date=r.scheduled_at,
                type=r.type,
                sent_count=r.sent_count,
            ),
            sent_date=r.sent_at,
            opened=False,
            clicked=False,
        )
        for r in rows
    ]
    return page, rows[-1].delivery_id if rows else None
