"""The caller, for handlers: authenticated by the route pipeline (api/routing.py) before any of
the request's body was read."""

from typing import Annotated

from fastapi import Depends, Request

from audiences.auth.service import AUDIENCE_PRODUCTS, Authenticated, Principal
from audiences.core.errors import ProductNotFound


def authenticated(request: Request) -> Authenticated:
    """What the pipeline found: the caller, and its route's own row when one rode along."""
    found = getattr(request.state, "authenticated", None)
    if not isinstance(found, Authenticated):
        raise RuntimeError("the route was not declared with an API route class")
    return found


async def current_principal(request: Request) -> Principal:
    """The caller's account and key."""
    return authenticated(request).principal


async def require_audience_product(request: Request) -> Principal:
    """Audience calls are for accounts with the Automation or eCommerce product."""
    # Read here rather than through `current_principal`: a dependency level costs every call.
    principal = authenticated(request).principal
    if not AUDIENCE_PRODUCTS.intersection(principal.products):
        raise ProductNotFound()
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
AudiencePrincipal = Annotated[Principal, Depends(require_audience_product)]
