from audiences.core.errors import DomainError


class AutomailerNotFound(DomainError):
    status = 404
    error_type = "RESOURCE_NOT_FOUND"
    message = "Automailer not found"


class AutomailerStopped(DomainError):
    status = 417
    error_type = "INVALID_STATE"
    message = "The automailer is stopped"
