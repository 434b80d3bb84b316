"""The /testing calls' bodies, named as the API names them (camelCase)."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, model_validator

from audiences.core.validation import has_control_characters, storable_text


def _plain(value: str) -> str:
    if has_control_characters(value) or not storable_text(value):
        raise ValueError("must not contain control characters")
    return value


Plain = AfterValidator(_plain)
Product = Literal["professional", "automation", "ecommerce"]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "*"]


def every_product() -> list[Product]:
    return ["professional", "automation", "ecommerce"]


class NewAccountRequest(BaseModel):
    """A fresh account for one test: its name, and its products (default: every product)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"name": "test_sync_contacts", "products": ["automation"]}},
    )

    name: Annotated[str, Plain] = Field(default="test", min_length=1, max_length=200)
    products: list[Product] = Field(default_factory=lambda: every_product(), min_length=1)


class NewAccountRead(BaseModel):
    """The new account and its credential (the secret is shown only here)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "accountId": 7,
                "name": "test_sync_contacts",
                "products": ["automation"],
                "consumerKey": "fV3x9QwZkT2mLp8sRb4nYc1H",
                "consumerSecret": "Jm2Qd8sLk4Rt7Vx1Zc9Nb3Hf6Gw0Py5Ta2Ue8Io4",
            }
        }
    )

    accountId: int
    name: str
    products: list[str]
    consumerKey: str
    consumerSecret: str


class FaultCreate(BaseModel):
    """The caller's next `times` calls of `method` on `path` (after the base path; a `*`
    segment matches any one segment, method `*` any method) answer `status` with the vendor's
    error envelope (and `Retry-After` for 429 and 503), after waiting `delayMs` if given; with
    `delayMs` alone they are answered as usual, slowly."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"method": "POST", "path": "/audience", "status": 503, "times": 2}
        },
    )

    method: Method
    path: Annotated[str, Plain] = Field(min_length=1, max_length=1000, pattern=r"^/")
    status: int | None = Field(default=None, ge=400, le=599)
    times: int = Field(default=1, ge=1, le=10_000)
    delayMs: int | None = Field(default=None, ge=0, le=60_000)
    errorType: Annotated[str, Plain] | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _does_something(self) -> "FaultCreate":
        if self.status is None and self.delayMs is None:
            raise ValueError("give a status, a delayMs, or both")
        if self.errorType is not None and self.status is None:
            raise ValueError("errorType needs a status")
        return self


FAULT_EXAMPLE: dict[str, JsonValue] = {
    "id": 1,
    "method": "POST",
    "path": "/audience",
    "status": 503,
    "errorType": "BACKEND_EXCEPTION",
    "delayMs": None,
    "remaining": 2,
}


class FaultRead(BaseModel):
    """A fault and how many of its calls are still to come."""

    model_config = ConfigDict(json_schema_extra={"example": FAULT_EXAMPLE})

    id: int
    method: str
    path: str
    status: int | None
    errorType: str | None
    delayMs: int | None
    remaining: int


class Faults(BaseModel):
    """The caller's faults, oldest first (the first that matches a call is the one it gets)."""

    model_config = ConfigDict(json_schema_extra={"example": {"faults": [FAULT_EXAMPLE]}})

    faults: list[FaultRead]
