"""What blocks an audience's deletion: one function per kind of reference.

A foreign key that restricts deletes is the guarantee (a delete and a new reference can never
both commit); these functions only make the refusal say what to remove."""

from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences.errors import AudienceInUse
from audiences.audiences.models import Audience
from audiences.platform.automailers import repository as automailers_repository
from audiences.platform.flows import repository as flows_repository
from audiences.platform.mailings import repository as mailings_repository
from audiences.platform.messages import repository as messages_repository
from audiences.platform.schemas import Reference


async def mailing_blockers(session: AsyncSession, audience: Audience) -> list[Reference]:
    """A mailing that targets it and is scheduled or sending (sent or cancelled do not)."""
    mailings = await mailings_repository.blocking_mailings(
        session, audience.account_id, audience.audience_id
    )
    return [
        Reference(
            type="mailing",
            id=m.encrypted_id,
            name=m.name,
            detail=(
                f"Scheduled for {m.scheduled_start_at.isoformat()}"
                if m.status == "scheduled" and m.scheduled_start_at
                else "Sending now"
                if m.status == "sending"
                else f"Mailing is {m.status}"
            ),
        )
        for m in mailings
    ]


async def automailer_blockers(session: AsyncSession, audience: Audience) -> list[Reference]:
    """An active automailer that targets it, until its last sending moment."""
    automailers = await automailers_repository.blocking_automailers(
        session, audience.account_id, audience.audience_id
    )
    return [
        Reference(
            type="automailer",
            id=a.public_id,
            name=a.name,
            detail=f"Active until its last sending moment {a.last_sending_at.isoformat()}",
        )
        for a in automailers
    ]


async def filter_blockers(session: AsyncSession, audience: Audience) -> list[Reference]:
    """Any trigger or step filter of a campaign or automation, whatever their state."""
    rows = await flows_repository.blocking_filters(
        session, audience.account_id, audience.audience_id
    )
    return [
        Reference(
            type=r.kind,
            id=r.public_id,
            name=r.name,
            detail=f"Audience filter on {r.role} '{r.node_name}'",
        )
        for r in rows
    ]


async def content_block_blockers(session: AsyncSession, audience: Audience) -> list[Reference]:
    """Any dynamic content block shown to it."""
    rows = await messages_repository.blocking_blocks(
        session, audience.account_id, audience.audience_id
    )
    return [
        Reference(
            type="content_block",
            id=r.public_id,
            name=r.name,
            detail=f"Dynamic content block '{r.block_name}' of message '{r.name}'",
        )
        for r in rows
    ]


async def references(session: AsyncSession, audience: Audience) -> list[Reference]:
    """Everything that blocks the audience's deletion."""
    found: list[Reference] = []
    for guard in (mailing_blockers, automailer_blockers, filter_blockers, content_block_blockers):
        found.extend(await guard(session, audience))
    return found


async def ensure_deletable(session: AsyncSession, audience: Audience) -> None:
    """Refuses with every blocker listed, so the marketer knows what to remove."""
    found = await references(session, audience)
    if found:
        raise AudienceInUse([r.model_dump() for r in found])


async def release_finished(session: AsyncSession, audience: Audience) -> None:
    """Mailings and automailers that no longer need the audience let go of it (they keep its
    id and name for display)."""
    await mailings_repository.detach_finished(session, audience.account_id, audience.audience_id)
    await automailers_repository.detach_finished(session, audience.account_id, audience.audience_id)
