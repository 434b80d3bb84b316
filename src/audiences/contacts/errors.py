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


class PropertyNotFound(DomainError):
    status = 404
    error_type = "RESOURCE_NOT_FOUND"
    message = "Property not found"


class PropertyNameTaken(DomainError):
    status = 417
    error_type = "NAME_ALREADY_IN_USE"
    message = "Property name must be unique"


class PropertyDefinitionInvalid(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"
    message = "Property definition is invalid"


class PropertyLimitReached(DomainError):
    status = 417
    error_type = "INVALID_STATE"
    message = "Maximum of account-defined properties exceeded"


class StandardPropertyKept(DomainError):
    status = 400
    error_type = "INVALID_STATE"
    message = "Standard properties cannot be removed"


class SearchQueryInvalid(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"
    message = "MPSearchQuery must be name=value, such as email=ann@example.com"


class FromDateInvalid(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"
    message = "Invalid fromDate or no fromDate given"


class ToDateInvalid(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"
    message = "Invalid toDate or no toDate given"


register_constraint("uq_contacts_account_id_external_id", ContactAlreadyExists)
register_constraint("uq_contact_properties_account_id_name", PropertyNameTaken)
register_constraint("uq_contact_properties_account_id_lower_name", PropertyNameTaken)
