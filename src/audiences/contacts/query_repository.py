"""All SQL of the vendor's contact listings: search, updated contacts, a contact's mailing
history. Pages are keyset pages on an internal key (the vendor's `after`)."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Numeric, case, cast, func, select, text
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.contacts.models import Contact
from audiences.contacts.search import Condition

_NUMBER = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_MOMENT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}"


def _matches(condition: Condition) -> ColumnElement[bool]:
    """The condition as SQL; a stored value that cannot be compared simply does not match."""
    name, kind, value = condition.name, condition.kind, condition.value
    match: ColumnElement[bool]
    if kind == "id":
        column = Contact.external_id if name == "externalId" else Contact.encrypted_id
        match = column == str(value)
        return match
    if condition.standard_email:
        # The copied column has an index on lower(email): the lookup PHP clients make.
        match = func.lower(Contact.email) == str(value)
        return match
    stored = Contact.properties[name]
    as_text = stored.astext
    if kind == "missing":
        match = ~Contact.properties.has_key(name) | (stored == cast("[]", Contact.properties.type))
        return match
    if kind == "set":
        match = stored.contains([{"bit": bit, "enabled": True} for bit in value])
        return match
    if kind in ("email", "text"):
        match = func.lower(as_text) == func.lower(str(value))
        return match
    if kind == "money":
        amount = case((as_text.op("~")(_NUMBER), cast(as_text, Numeric)), else_=None)
        return amount == Decimal(value)
    if kind == "dateTime":
        moment = case((as_text.op("~")(_MOMENT), cast(as_text, TIMESTAMP(timezone=True))))
        return moment == datetime.fromisoformat(value)
    # int, date and birthdate are stored in one canonical text form.
    match = as_text == str(value)
    return match


async def search_page(
    session: AsyncSession, account_id: int, condition: Condition, after: int, limit: int
) -> Sequence[Contact]:
    query = (
        select(Contact)
        .where(Contact.account_id == account_id, Contact.contact_id > after, _matches(condition))
        .order_by(Contact.contact_id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


# A window of at most this many contacts is read through its changed_at index; a wider one in
# contact order (there the index would fetch, then sort, the whole window on every page).
NARROW_WINDOW = 5000


async def updated_page(
    session: AsyncSession,
    account_id: int,
    since: datetime,
    until: datetime,
    after: int,
    limit: int,
) -> Sequence[Contact]:
    """Contacts last changed within [since, until], in contact order after the cursor."""
    in_window = (Contact.changed_at >= since) & (Contact.changed_at <= until)
    probe = select(func.count()).select_from(
        select(Contact.contact_id)
        .where(Contact.account_id == account_id, in_window)
        .limit(NARROW_WINDOW)
        .subquery()
    )
    narrow = int(await session.scalar(probe) or 0) < NARROW_WINDOW
    # With stale statistics the planner takes any window for a narrow one; shifting the column
    # by nothing keeps it from the index when the window is wide.
    shifted = Contact.changed_at + timedelta(0)
    condition = in_window if narrow else (shifted >= since) & (shifted <= until)
    query = (
        select(Contact)
        .where(Contact.account_id == account_id, Contact.contact_id > after, condition)
        .order_by(Contact.contact_id)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def contact_key(session: AsyncSession, account_id: int, external_id: str) -> int | None:
    key: int | None = await session.scalar(
        select(Contact.contact_id).where(
            Contact.account_id == account_id, Contact.external_id == external_id
        )
    )
    return key


# Mailings reach a contact when they complete; automailers when a run mails it. Both number
# their deliveries from one sequence, so the history is one series in the order sent.
_MAILING_HISTORY = text(
    """
    WITH page AS (
        SELECT * FROM (
            SELECT d.delivery_id, d.sent_at, m.encrypted_id, m.name, m.type,
                   m.scheduled_start_at AS scheduled_at, m.sent_count, NULL::bigint AS automailer_id
            FROM mailing_deliveries d
            JOIN mailings m ON m.account_id = d.account_id AND m.mailing_id = d.mailing_id
            WHERE d.account_id = :account_id AND d.contact_id = :contact_id
              AND d.delivery_id > :after
            UNION ALL
            SELECT d.delivery_id, d.mailed_at, a.public_id, a.name, 'EMAIL',
                   a.first_sending_at, NULL, a.automailer_id
            FROM automailer_deliveries d
            JOIN automailers a ON a.account_id = d.account_id AND a.automailer_id = d.automailer_id
            WHERE d.account_id = :account_id AND d.contact_id = :contact_id
              AND d.delivery_id > :after
        ) deliveries
        ORDER BY delivery_id
        LIMIT :limit
    )
    SELECT page.delivery_id, page.sent_at, page.encrypted_id, page.name, page.type,
           page.scheduled_at,
           coalesce(page.sent_count, (
               SELECT count(*) FROM automailer_deliveries n
               WHERE n.account_id = :account_id AND n.automailer_id = page.automailer_id
           )) AS sent_count
    FROM page
    ORDER BY page.delivery_id
    """
)


async def mailing_history(
    session: AsyncSession, account_id: int, contact_id: int, after: int, limit: int
) -> Sequence[Row[Any]]:
    rows = await session.execute(
        _MAILING_HISTORY,
        {"account_id": account_id, "contact_id": contact_id, "after": after, "limit": limit},
    )
    return rows.all()
