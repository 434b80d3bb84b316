from audiences.core.errors import DomainError


class AutomailerNotFound(DomainError):
    status = 404
    error_type = "RESOURCE_NOT_FOUND"
    message = "Automailer not found"


class AutomailerStopped(DomainError):
    status = 417
    error_type = "INVALID_STATE"
    message = "The automailer is stopped"


class AutomailerPeriodOutOfRange(DomainError):
    """An automailer stored before periods were bounded, with one no date can be added to."""

    status = 417
    error_type = "INVALID_STATE"
    message = "The automailer's period is longer than 100 years; update it with a shorter one"
