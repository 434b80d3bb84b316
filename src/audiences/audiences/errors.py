from typing import Any

from audiences.core.errors import DomainError, register_constraint


class AudienceNotFound(DomainError):
    status = 404
    error_type = "RESOURCE_NOT_FOUND"
    message = "Audience not found"


class AudienceNameInvalid(DomainError):
    status = 417
    error_type = "INVALID_PARAMS"
    message = "Audience name can not be empty or more than 255 characters"


class AudienceIdInvalid(DomainError):
    status = 417
    error_type = "INVALID_PARAMS"
    message = "Audience id can not be empty or more than 255 characters"


class AudienceNameTaken(DomainError):
    status = 417
    error_type = "NAME_ALREADY_IN_USE"
    message = "Audience name must be unique"


class AudienceIdTaken(DomainError):
    status = 417
    error_type = "ID_NOTUNIQUE"
    message = "Audience id must be unique"


class AudienceLimitReached(DomainError):
    status = 417
    error_type = "INVALID_STATE"
    message = "Maximum of audiences exceeded"


class AudienceIdMismatch(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"
    message = "Path id doesn't match audience id"


class AudienceInUse(DomainError):
    status = 417
    error_type = "INVALID_STATE"
    message = "Cannot delete audience, as it's in use"

    def __init__(self, references: list[dict[str, Any]] | None = None) -> None:
        super().__init__(references=references or [])


register_constraint("uq_audiences_account_id_external_id", AudienceIdTaken)
register_constraint("uq_audiences_account_id_name_key", AudienceNameTaken)

# Backstop for a delete that races a new reference: the restricting foreign keys.
for _table in ("mailings", "automailers", "flow_node_audiences", "message_blocks"):
    register_constraint(f"fk_{_table}_account_id_audience_id_audiences", AudienceInUse)
