from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from audiences.core.paging import Paging
from audiences.platform.schemas import Name


class FolderWrite(BaseModel):
    """A folder's name and, for a subfolder, its top-level parent."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"name": "Web shop", "parentId": None}}
    )

    name: Name
    parentId: str | None = Field(default=None, description="A top-level folder's id, or null")


class FolderRead(BaseModel):
    id: str
    name: str
    parentId: str | None
    audienceCount: int
    folderCount: int


class Folders(BaseModel):
    folders: list[FolderRead]


class FolderMove(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"folderId": "Qm2Xc8Lr"}}
    )

    folderId: str | None = Field(description="The folder to put the audience in; null for none")


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
