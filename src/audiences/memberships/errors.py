from audiences.core.errors import DomainError


class ContactsNotFound(DomainError):
    status = 404
    error_type = "CONTACT_NOT_FOUND"
    message = "Contacts not found"

    def __init__(self, external_contact_ids: list[str] | None = None) -> None:
        super().__init__(externalContactIds=external_contact_ids or [])


class BatchTooLarge(DomainError):
    status = 413
    error_type = "INVALID_PARAMS"

    def __init__(self, maximum: int = 2500) -> None:
        super().__init__(f"Maximum batch size of contact ids exceeded(maximum is {maximum})")
