from audiences.core.errors import DomainError


class ContactsNotFound(DomainError):
    status = 404
    error_type = "CONTACT_NOT_FOUND"
    message = "Contacts not found"

    def __init__(self, external_contact_ids: list[str] | None = None) -> None:
        super().__init__(external_contact_ids=external_contact_ids or [])


class UploadHasUnknownContacts(DomainError):
    """A bulk upload refused (unknown=reject): nothing changed."""

    status = 404
    error_type = "CONTACT_NOT_FOUND"
    message = "Contacts not found"

    def __init__(self, unknown: int = 1, sample: list[str] | None = None) -> None:
        super().__init__(
            f"Contacts not found: {unknown} id(s) name no contact; nothing was changed",
            unknown=unknown,
            unknown_sample=sample or [],
        )


class BatchTooLarge(DomainError):
    status = 413
    error_type = "INVALID_PARAMS"

    def __init__(self, maximum: int = 2500) -> None:
        super().__init__(f"Maximum batch size of contact ids exceeded(maximum is {maximum})")


class NotAMember(DomainError):
    status = 404
    error_type = "CONTACT_NOT_FOUND"
    message = "The contact is not a member of this audience"


class TooManyExports(DomainError):
    status = 429
    error_type = "INVALID_STATE"
    message = "Too many exports of this account at once; try again when one has finished"

    def __init__(self, limit: int = 2) -> None:
        super().__init__(
            f"At most {limit} exports of an account run at once; try again when one has finished",
            headers={"Retry-After": "5"},
        )
