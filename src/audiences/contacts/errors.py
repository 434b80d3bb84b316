from audiences.core.errors import DomainError, register_constraint


class ContactNotFound(DomainError):
    status = 404
    error_type = "CONTACT_NOT_FOUND"
    message = "Given contact not found"


class ContactAlreadyExists(DomainError):
    status = 400
    error_type = "CONTACT_ALREADY_EXISTS"
    message = "Contact already exists"


class EmailInvalid(DomainError):
    status = 400
    error_type = "INVALID_PROPERTY"
    message = "Email is invalid"


class PropertyInvalid(DomainError):
    status = 400
    error_type = "INVALID_PROPERTY"
    message = "Property is invalid"


class ContactIdInvalid(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"
    message = "Contact externalId must be 1 to 255 characters without control characters"


class ContactWithoutId(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"
    message = "Contact without externalId found"


class TooManyContacts(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"
    message = "Too many contacts provided (max is 100)"


class ContactAnonymized(DomainError):
    status = 400
    error_type = "INVALID_STATE"
    message = "Contact is anonymized and can no longer be changed"


register_constraint("uq_contacts_account_id_external_id", ContactAlreadyExists)
