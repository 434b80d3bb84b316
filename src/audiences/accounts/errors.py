from audiences.core.errors import DomainError


class AccountNotFound(DomainError):
    status = 404
    error_type = "RESOURCE_NOT_FOUND"
    message = "Account not found"


class ConsumerKeyTaken(DomainError):
    status = 400
    error_type = "ID_NOTUNIQUE"
    message = "Consumer key already exists"
