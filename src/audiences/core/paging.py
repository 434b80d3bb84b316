"""The vendor's paging: `after` (a cursor) and `pageSize`; answers carry `paging.next`."""

from typing import Annotated

from fastapi import Query, Request
from pydantic import BaseModel, Field
from starlette.datastructures import URL

from audiences.core.basepath import client_path
from audiences.core.settings import app_settings

MAX_PAGE_SIZE = 10_000
DEFAULT_PAGE_SIZE = 100


class Paging(BaseModel):
    next: str | None = Field(
        default=None,
        description="The next page's address: under the server's configured public URL, else "
        "a path (`/integrationservice/...`); null at the end",
    )
    after: int | None = Field(
        default=None, description="Cursor to pass as `after` for the next page"
    )


AfterParam = Annotated[
    int | None,
    # Cursors are PostgreSQL bigints: anything larger is a 400, not a database error.
    Query(ge=0, le=2**63 - 1, description="Cursor from the previous page's `paging.after`"),
]
PageSizeParam = Annotated[
    int,
    Query(
        alias="pageSize",
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Items per page (at most {MAX_PAGE_SIZE})",
    ),
]


def next_paging(request: Request, last: int | None, full_page: bool) -> Paging:
    """Paging for a page whose last item has cursor `last`; no next page after a short one.
    The link is this request's path and query with the new `after`, under the configured
    public URL, else relative: never built from the Host header, which the client chose."""
    if last is None or not full_page:
        return Paging()
    query = URL(query=request.url.query).include_query_params(after=last).query
    link = f"{client_path(request)}?{query}"
    return Paging(next=f"{app_settings(request).public_url or ''}{link}", after=last)
