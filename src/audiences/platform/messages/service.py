"""Rules for messages: dynamic content blocks shown to an audience's members."""

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences import service as audiences_service
from audiences.contacts import repository as contacts_repository
from audiences.contacts.errors import ContactNotFound
from audiences.core.ids import new_public_id
from audiences.platform.messages import repository
from audiences.platform.messages.errors import MessageNotFound
from audiences.platform.messages.models import Message
from audiences.platform.messages.schemas import (
    BlockIn,
    BlockRead,
    MessageCreate,
    MessageRead,
    MessageUpdate,
    RenderedBlock,
    Rendering,
)


async def to_read(session: AsyncSession, message: Message) -> MessageRead:
    rows = await repository.blocks(session, message)
    return MessageRead(
        id=message.public_id,
        name=message.name,
        blocks=[
            BlockRead(
                id=r.public_id, name=r.name, content=r.content, audience_external_id=r.audience
            )
            for r in rows
        ],
    )


async def get_message(
    session: AsyncSession, account_id: int, public_id: str, *, lock: bool = False
) -> Message:
    message = await repository.get_message(session, account_id, public_id, lock=lock)
    if message is None:
        raise MessageNotFound()
    return message


async def _write_blocks(session: AsyncSession, message: Message, body: MessageCreate) -> None:
    blocks = []
    for position, block in enumerate(body.blocks):
        audience_id = None
        if block.audience_external_id is not None:
            audience = await audiences_service.audience_to_reference(
                session, message.account_id, block.audience_external_id
            )
            audience_id = audience.audience_id
        blocks.append(
            {
                "public_id": new_public_id(),
                "position": position,
                "name": block.name,
                "content": block.content,
                "audience_id": audience_id,
            }
        )
    await repository.replace_blocks(session, message, blocks)


async def create_message(
    session: AsyncSession, account_id: int, body: MessageCreate
) -> MessageRead:
    """A message; each block with an audience blocks that audience's deletion."""
    message = await repository.insert_message(
        session, {"account_id": account_id, "public_id": new_public_id(), "name": body.name}
    )
    await _write_blocks(session, message, body)
    return await to_read(session, message)


async def read_message(session: AsyncSession, account_id: int, public_id: str) -> MessageRead:
    return await to_read(session, await get_message(session, account_id, public_id))


async def update_message(
    session: AsyncSession, account_id: int, public_id: str, body: MessageCreate
) -> MessageRead:
    """Replaces the name and blocks (block ids are new)."""
    message = await get_message(session, account_id, public_id, lock=True)
    message.name = body.name
    message.changed_at = func.now()
    await session.flush()
    await _write_blocks(session, message, body)
    return await to_read(session, message)


async def delete_message(session: AsyncSession, account_id: int, public_id: str) -> None:
    await repository.delete_message(
        session, await get_message(session, account_id, public_id, lock=True)
    )


async def render(session: AsyncSession, account_id: int, public_id: str, contact: str) -> Rendering:
    """The blocks the contact sees: every static block, and each dynamic block whose audience
    the contact is a member of."""
    message = await get_message(session, account_id, public_id)
    found = await contacts_repository.get_contact(session, account_id, contact)
    if found is None:
        raise ContactNotFound()
    rows = await repository.visible_blocks(session, message, found.contact_id)
    return Rendering(
        contact=contact,
        blocks=[RenderedBlock(id=r.public_id, name=r.name, content=r.content) for r in rows],
    )


async def list_messages(session: AsyncSession, account_id: int) -> list[MessageRead]:
    return [await to_read(session, m) for m in await repository.list_messages(session, account_id)]


async def remove_audience_blocks(
    session: AsyncSession, account_id: int, public_id: str, audience_external_id: str
) -> MessageRead:
    """Removes the message's dynamic blocks shown to the audience (the content meant only for
    its members goes with them), so that it no longer blocks the audience's deletion."""
    # Locked before it is read: a concurrent change is not overwritten with what was read.
    message = await to_read(session, await get_message(session, account_id, public_id, lock=True))
    body = MessageUpdate(
        name=message.name,
        blocks=[
            BlockIn(name=b.name, content=b.content, audience_external_id=b.audience_external_id)
            for b in message.blocks
            if b.audience_external_id != audience_external_id
        ],
    )
    return await update_message(session, account_id, public_id, body)
