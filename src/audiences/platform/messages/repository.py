"""All SQL about messages and their content blocks."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.core.plans import without_nested_loops
from audiences.platform.messages.models import Message, MessageBlock


async def insert_message(session: AsyncSession, values: dict[str, Any]) -> Message:
    message = Message(**values)
    session.add(message)
    await session.flush()
    return message


async def get_message(
    session: AsyncSession, account_id: int, public_id: str, *, lock: bool = False
) -> Message | None:
    query = select(Message).where(Message.account_id == account_id, Message.public_id == public_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def delete_message(session: AsyncSession, message: Message) -> None:
    await session.delete(message)
    await session.flush()


async def replace_blocks(
    session: AsyncSession, message: Message, blocks: list[dict[str, Any]]
) -> None:
    await session.execute(
        delete(MessageBlock).where(
            MessageBlock.account_id == message.account_id,
            MessageBlock.message_id == message.message_id,
        )
    )
    if blocks:
        await session.execute(
            insert(MessageBlock),
            [
                {"account_id": message.account_id, "message_id": message.message_id, **b}
                for b in blocks
            ],
        )


async def blocks(session: AsyncSession, message: Message) -> Sequence[Row[Any]]:
    """(public_id, name, content, audience external id or None) in order."""
    rows = await session.execute(
        text(
            """
            SELECT b.public_id, b.name, b.content, a.external_id AS audience
            FROM message_blocks b
            LEFT JOIN audiences a ON a.account_id = b.account_id AND a.audience_id = b.audience_id
            WHERE b.account_id = :account_id AND b.message_id = :message_id
            ORDER BY b.position
            """
        ),
        {"account_id": message.account_id, "message_id": message.message_id},
    )
    return rows.all()


async def visible_blocks(
    session: AsyncSession, message: Message, contact_id: int
) -> Sequence[Row[Any]]:
    """The blocks a contact sees: static ones, and dynamic ones of audiences it is in."""
    rows = await session.execute(
        text(
            """
            SELECT b.public_id, b.name, b.content
            FROM message_blocks b
            WHERE b.account_id = :account_id AND b.message_id = :message_id
              AND (b.audience_id IS NULL OR EXISTS (
                  SELECT 1 FROM audience_members m
                  WHERE m.account_id = b.account_id AND m.audience_id = b.audience_id
                    AND m.contact_id = :contact_id))
            ORDER BY b.position
            """
        ),
        {
            "account_id": message.account_id,
            "message_id": message.message_id,
            "contact_id": contact_id,
        },
    )
    return rows.all()


async def blocking_blocks(
    session: AsyncSession, account_id: int, audience_id: int
) -> Sequence[Row[Any]]:
    """Every dynamic content block shown to the audience: (message id, message name, block)."""
    async with without_nested_loops(session):
        rows = await session.execute(
            text(
                """
                SELECT msg.public_id, msg.name, b.name AS block_name
                FROM message_blocks b
                JOIN messages msg ON msg.account_id = b.account_id AND msg.message_id = b.message_id
                WHERE b.account_id = :account_id AND b.audience_id = :audience_id
                ORDER BY msg.message_id, b.position
                """
            ),
            {"account_id": account_id, "audience_id": audience_id},
        )
    return rows.all()


async def list_messages(session: AsyncSession, account_id: int) -> Sequence[Message]:
    query = (
        select(Message).where(Message.account_id == account_id).order_by(Message.message_id.desc())
    )
    return (await session.scalars(query)).all()
