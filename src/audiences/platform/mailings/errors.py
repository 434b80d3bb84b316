from audiences.core.errors import DomainError


class MailingNotFound(DomainError):
    status = 404
    error_type = "MAILING_NOTFOUND"
    message = "Mailing not found"


class MailingStateInvalid(DomainError):
    status = 417
    error_type = "INVALID_STATE"
    message = "The mailing cannot do that in its current status"


class MailingAudienceGone(DomainError):
    status = 417
    error_type = "INVALID_STATE"
    message = "The mailing's audience was deleted; choose another target group first"
