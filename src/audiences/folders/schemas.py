from typing import Literal

from pydantic import ConfigDict, Field

from audiences.core.paging import Paging
from audiences.core.schemas import ApiModel
from audiences.core.validation import IdReference
from audiences.platform.schemas import Name


class FolderWrite(ApiModel):
    """A folder's name and, for a subfolder, its top-level parent."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"name": "Web shop", "parentId": None}}
    )

    name: Name
    parent_id: IdReference | None = Field(
        default=None, description="A top-level folder's id, or null"
    )


class FolderRead(ApiModel):
    id: str
    name: str
    parent_id: str | None
    audience_count: int
    folder_count: int


class Folders(ApiModel):
    folders: list[FolderRead]


class FolderMove(ApiModel):
    """Where the audience goes. The example moves it out of any folder: a folder's id is made
    by POST /folder, so no example can know it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {}})

    folder_id: IdReference | None = Field(
        default=None,
        description="The folder to put the audience in (an id from POST /folder); null or "
        "left out for none",
    )


class DynamicList(ApiModel):
    """An item of the dynamic-lists overview; audiences are the items of kind `audience`."""

    kind: Literal["audience"]
    external_id: str
    name: str
    folder_id: str | None
    folder_name: str | None
    member_count: int
    create_date: int
    last_sync_date: int | None


class DynamicLists(ApiModel):
    paging: Paging
    items: list[DynamicList]
