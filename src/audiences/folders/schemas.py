from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from audiences.core.paging import Paging
from audiences.core.validation import IdReference
from audiences.platform.schemas import Name


class FolderWrite(BaseModel):
    """A folder's name and, for a subfolder, its top-level parent."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"name": "Web shop", "parentId": None}}
    )

    name: Name
    parentId: IdReference | None = Field(
        default=None, description="A top-level folder's id, or null"
    )


class FolderRead(BaseModel):
    id: str
    name: str
    parentId: str | None
    audienceCount: int
    folderCount: int


class Folders(BaseModel):
    folders: list[FolderRead]


class FolderMove(BaseModel):
    """Where the audience goes. The example moves it out of any folder: a folder's id is made
    by POST /folder, so no example can know it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {}})

    folderId: IdReference | None = Field(
        default=None,
        description="The folder to put the audience in (an id from POST /folder); null or "
        "left out for none",
    )


class DynamicList(BaseModel):
    """An item of the dynamic-lists overview; audiences are the items of kind `audience`."""

    kind: Literal["audience"]
    externalId: str
    name: str
    folderId: str | None
    folderName: str | None
    memberCount: int
    createDate: int
    lastSyncDate: int | None


class DynamicLists(BaseModel):
    paging: Paging
    items: list[DynamicList]
