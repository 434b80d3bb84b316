from audiences.core.errors import DomainError


class FlowNotFound(DomainError):
    status = 404
    error_type = "RESOURCE_NOT_FOUND"
    message = "Not found"

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"{kind.capitalize()} not found",
            error_type="CAMPAIGN_NOTFOUND" if kind == "campaign" else "RESOURCE_NOT_FOUND",
        )


class StepNotFound(DomainError):
    status = 404
    error_type = "RESOURCE_NOT_FOUND"
    message = "Step not found"
