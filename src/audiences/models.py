"""Every model, imported in one place so the metadata (and Alembic) sees all tables."""

from audiences.accounts.models import Account, ApiKey, OAuthNonce
from audiences.audiences.models import Audience
from audiences.contacts.models import Contact, PropertyDefinition
from audiences.core.db import Base
from audiences.memberships.models import AudienceMember

metadata = Base.metadata

__all__ = [
    "Account",
    "ApiKey",
    "Audience",
    "AudienceMember",
    "Contact",
    "OAuthNonce",
    "PropertyDefinition",
    "metadata",
]
