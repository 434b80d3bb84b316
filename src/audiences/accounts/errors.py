from audiences.core.errors import DomainError


class AccountNotFound(DomainError):
    status = 404
    error_type = "RESOURCE_NOT_FOUND"
    message = "Account not found"


class ConsumerKeyTaken(DomainError):
    status = 400
    error_type = "ID_NOTUNIQUE"
    message = "Consumer key already exists"


class BootstrapRefused(DomainError):
    """The bootstrap credential names a key that was revoked, or an account that was disabled:
    that was done on purpose (a leaked secret), so starting again must not undo it."""

    status = 409
    error_type = "INVALID_STATE"
    message = "The bootstrap credential was revoked"
