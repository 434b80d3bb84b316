"""Rules for audiences: unique ids and names, the per-account limit, updates and deletes."""

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.audiences import guards, repository
from audiences.audiences.errors import (
    AudienceIdInvalid,
    AudienceIdMismatch,
    AudienceIdTaken,
    AudienceInUse,
    AudienceLimitReached,
    AudienceNameInvalid,
    AudienceNameTaken,
    AudienceNotFound,
)
from audiences.audiences.models import Audience
from audiences.audiences.schemas import (
    AudienceCreate,
    AudienceListItem,
    AudienceRead,
    AudienceUpdate,
)
from audiences.core.errors import InvalidParams
from audiences.core.timeutil import epoch_ms
from audiences.core.validation import MAX_ID_LENGTH, has_control_characters, storable_text
from audiences.folders import repository as folders_repository
from audiences.folders.errors import FolderNotFound
from audiences.history import service as history
from audiences.platform.schemas import References

MAX_DESCRIPTION = 4000


def to_read(audience: Audience) -> AudienceRead:
    return AudienceRead(
        external_id=audience.external_id,
        name=audience.name,
        description=audience.description,
        create_date=epoch_ms(audience.created_at) or 0,
        change_date=epoch_ms(audience.changed_at) or 0,
        last_contact_added_at=epoch_ms(audience.last_contact_added_at),
        last_contact_removed_at=epoch_ms(audience.last_contact_removed_at),
        last_sync_date=epoch_ms(audience.last_sync_at),
    )


def checked_audience_id(value: str | None) -> str:
    """1 to 255 characters; no '/' or control characters and not `.` or `..`, since the id is
    a path segment (browsers and most HTTP clients resolve `.` and `..` away)."""
    if value is None or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise AudienceIdInvalid()
    if "/" in value or has_control_characters(value) or not storable_text(value):
        raise AudienceIdInvalid("Audience id can not contain '/' or control characters")
    if value in (".", ".."):
        raise AudienceIdInvalid(
            "Audience id can not be '.' or '..': clients cannot put them in a path"
        )
    return value


def checked_name(value: str | None) -> str:
    if value is None or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise AudienceNameInvalid()
    if has_control_characters(value) or not storable_text(value):
        raise AudienceNameInvalid("Audience name can not contain control characters")
    return value


def checked_description(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_DESCRIPTION or not storable_text(value):
        raise InvalidParams(
            f"Audience description must be at most {MAX_DESCRIPTION} characters of text",
            status=417,
        )
    return value


async def get_audience(
    session: AsyncSession, account_id: int, external_id: str, *, lock: repository.Lock = None
) -> Audience:
    """The account's audience with this id; another account's is simply not found."""
    audience = await repository.get_audience(session, account_id, external_id, lock=lock)
    if audience is None:
        raise AudienceNotFound()
    return audience


async def audience_to_reference(
    session: AsyncSession, account_id: int, external_id: str
) -> Audience:
    """An audience another object is about to reference; it cannot be deleted until the
    caller's transaction ends. Unknown: a 404 that names it."""
    audience = await repository.get_audience(session, account_id, external_id, lock="reference")
    if audience is None:
        raise AudienceNotFound(
            f"Audience not found: {external_id}", audience_external_id=external_id
        )
    return audience


async def create_audience(
    session: AsyncSession, account_id: int, body: AudienceCreate, max_audiences: int
) -> AudienceRead:
    """Synchronizes a new audience: id and name unique in the account, within the limit."""
    external_id = checked_audience_id(body.external_id)
    name = checked_name(body.name)
    description = checked_description(body.description)
    await repository.lock_account(session, account_id)
    if await repository.external_id_taken(session, account_id, external_id):
        raise AudienceIdTaken()
    if await repository.name_taken(session, account_id, name):
        raise AudienceNameTaken()
    if await repository.count_audiences(session, account_id) >= max_audiences:
        raise AudienceLimitReached()
    audience = await repository.insert_audience(session, account_id, external_id, name, description)
    await history.record(session, audience, "create", name=name)
    return to_read(audience)


async def update_audience(
    session: AsyncSession, account_id: int, external_id: str, body: AudienceUpdate
) -> AudienceRead:
    """Renames or re-describes an audience; its id cannot change."""
    if body.external_id is not None and body.external_id != external_id:
        raise AudienceIdMismatch()
    name = checked_name(body.name)
    description = checked_description(body.description)
    audience = await get_audience(session, account_id, external_id, lock="write")
    if await repository.name_taken(
        session, account_id, name, except_audience_id=audience.audience_id
    ):
        raise AudienceNameTaken()
    audience.name = name
    if "description" in body.model_fields_set:
        audience.description = description
    audience.changed_at = func.now()
    await session.flush()
    await history.record(session, audience, "update", name=name)
    return to_read(audience)


async def list_audiences(
    session: AsyncSession,
    account_id: int,
    after: int,
    limit: int,
    name: str | None,
    folder: str | None = None,
) -> tuple[list[AudienceListItem], int | None]:
    """A page of the account's audiences with their member counts, and the next cursor."""
    folder_id = None
    if folder:
        found = await folders_repository.get_folder(session, account_id, folder)
        if found is None:
            raise FolderNotFound()
        folder_id = found.folder_id
    rows = await repository.list_audiences(session, account_id, after, limit, name, folder_id)
    folders = await folders_repository.get_folders_by_ids(
        session, account_id, sorted({a.folder_id for a in rows if a.folder_id is not None})
    )
    items = [
        AudienceListItem(
            **to_read(a).model_dump(),
            member_count=a.member_count,
            folder_id=folders[a.folder_id].public_id if a.folder_id in folders else None,
        )
        for a in rows
    ]
    return items, rows[-1].audience_id if rows else None


async def count_audiences(session: AsyncSession, account_id: int) -> int:
    """How many audiences the account has."""
    return await repository.count_audiences(session, account_id)


async def read_audience(session: AsyncSession, account_id: int, external_id: str) -> AudienceRead:
    return to_read(await get_audience(session, account_id, external_id))


async def delete_audience(session: AsyncSession, account_id: int, external_id: str) -> None:
    """Deletes an audience and its memberships, unless something uses it (section 6 of the
    contract); the refusal lists every blocker."""
    # The row lock comes first: from here on nothing new can reference the audience.
    audience = await get_audience(session, account_id, external_id, lock="delete")
    await guards.ensure_deletable(session, audience)
    try:
        async with session.begin_nested():
            await history.record(session, audience, "delete", members=audience.member_count)
            await guards.release_finished(session, audience)
            await repository.delete_audience(session, audience)
    except IntegrityError as exc:
        # A mailing was scheduled between the check and the delete: the restricting foreign
        # key refused, and the answer is the same refusal, with the blocker named.
        found = await guards.references(session, audience)
        raise AudienceInUse([r.model_dump() for r in found]) from exc


async def usage(session: AsyncSession, account_id: int, external_id: str) -> References:
    """What blocks the audience's deletion, without deleting it."""
    audience = await get_audience(session, account_id, external_id)
    return References(references=await guards.references(session, audience))
