from audiences.core.errors import DomainError

# The vendor's errorType for each status a fault may answer; any other 4xx is INVALID_PARAMS,
# any other 5xx BACKEND_EXCEPTION.
ERROR_TYPES = {
    400: "INVALID_PARAMS",
    401: "NOT_AUTHORIZED",
    403: "PRODUCT_NOTFOUND",
    404: "RESOURCE_NOT_FOUND",
    409: "NAME_ALREADY_IN_USE",
    417: "INVALID_STATE",
    429: "INVALID_STATE",
}
RETRY_AFTER_STATUSES = (429, 503)


def error_type_for(status: int) -> str:
    return ERROR_TYPES.get(status, "BACKEND_EXCEPTION" if status >= 500 else "INVALID_PARAMS")


class InjectedFault(DomainError):
    """The answer of a call that met a fault injected through POST /testing/faults."""

    def __init__(self, status: int, error_type: str | None, path: str) -> None:
        headers = {"Retry-After": "1"} if status in RETRY_AFTER_STATUSES else None
        super().__init__(
            f"Fault injected for {path} (POST /testing/faults)",
            status=status,
            error_type=error_type or error_type_for(status),
            headers=headers,
        )


class TooManyFaults(DomainError):
    status = 400
    error_type = "INVALID_PARAMS"
    message = "An account has at most 1000 faults; clear them with DELETE /testing/faults"
