"""Every model, imported in one place so the metadata (and Alembic) sees all tables."""

from audiences.accounts.models import (
    Account,
    ApiKey,
    AuthFailure,
    ConsoleSession,
    OAuthNonce,
    RateCounter,
)
from audiences.audiences.models import Audience
from audiences.contacts.models import Contact, PropertyDefinition
from audiences.core.db import Base
from audiences.folders.models import Folder
from audiences.history.models import AudienceEvent
from audiences.idempotency.models import IdempotentResponse
from audiences.memberships.models import AudienceMember
from audiences.platform.automailers.models import Automailer, AutomailerDelivery
from audiences.platform.flows.models import Flow, FlowNode, FlowNodeAudience
from audiences.platform.mailings.models import Mailing, MailingDelivery
from audiences.platform.messages.models import Message, MessageBlock
from audiences.testing.models import Fault

metadata = Base.metadata

__all__ = [
    "Account",
    "ApiKey",
    "Audience",
    "AudienceEvent",
    "AudienceMember",
    "AuthFailure",
    "Automailer",
    "AutomailerDelivery",
    "ConsoleSession",
    "Contact",
    "Fault",
    "Flow",
    "FlowNode",
    "FlowNodeAudience",
    "Folder",
    "IdempotentResponse",
    "Mailing",
    "MailingDelivery",
    "Message",
    "MessageBlock",
    "OAuthNonce",
    "PropertyDefinition",
    "RateCounter",
    "metadata",
]
