from audiences.core.errors import DomainError


class MessageNotFound(DomainError):
    status = 404
    error_type = "RESOURCE_NOT_FOUND"
    message = "Message not found"
