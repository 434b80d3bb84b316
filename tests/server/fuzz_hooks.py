"""Schemathesis hooks (loaded by schemathesis.toml): how to send an NDJSON body, and which
refusals of a well-formed request are the service's rules rather than a document that lies."""

import json
import os
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure
from schemathesis.openapi.checks import EnsureResourceAvailability, RejectedPositiveData

# A request the schema allows is still refused when it collides with what is stored (a
# duplicate id or name, an audience in use, a standard property), when two of its values
# disagree (the path's id and the body's, a set's type and its entries), when it depends on
# the account's own definitions (its permission bits, its properties) or on the clock, or when
# an upload's lines break a line rule (an upload is text, which no JSON schema describes).
# No JSON schema can state these; each is answered with its own documented errorType or
# message, and only those are let through.
STATE_REFUSALS = {
    "ID_NOTUNIQUE",
    "NAME_ALREADY_IN_USE",
    "CONTACT_ALREADY_EXISTS",
    "INVALID_STATE",
    # a property value checked against the account's definition of that property
    "INVALID_PROPERTY",
}
RULE_MESSAGES = (
    # two values of one request
    "doesn't match",
    "cannot change",
    "must not be after toDate",
    "lastSendingMoment must be after firstSendingMoment",
    "A set needs its entries",
    "Only a set has entries",
    "is given twice",
    "is reserved for a field of the contact itself",
    # the account's definitions
    "is not a permission of this account",
    "Standard properties cannot be removed",
    "MPSearchQuery: ",
    "line(s) have errors",
    # the clock, and lengths no pattern can weigh
    "must not be in the past",
    "Invalid field 'period': Value error, must be longer than zero",
    "Invalid field 'period': Value error, must be at most 100 years",
    # uploads
    "The CSV header",
    "The upload cannot be read",
    "Line ",
)


# Ids a run pins in its configuration (tests/server/test_fuzz.py seeds them): a request that
# names one after a create was given the pinned id, not the created one, so its 404 (the seeded
# object deleted by an earlier step) says nothing about what was created.
SEEDED = set(os.environ.get("AUDIENCES_FUZZ_SEEDED", "").split())


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: Any, value: Any) -> bytes:
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode()


def _error(response: Any) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@schemathesis.hook
def filter_failure(ctx: Any, failure: Failure, case: Any, response: Any) -> bool:
    """Keeps every failure but a well-formed request refused by one of the rules above, and
    a 404 after a create that is about another object: one the request named (an audience in
    a campaign's filters) or a seeded one the configuration put in its path."""
    error = _error(response)
    if isinstance(failure, EnsureResourceAvailability):
        named = {str(value) for value in (case.path_parameters or {}).values()}
        return "audienceExternalId" not in error and not named & SEEDED
    if not isinstance(failure, RejectedPositiveData):
        return True
    if error.get("errorType") in STATE_REFUSALS:
        return False
    message = str(error.get("message", ""))
    return not any(rule in message for rule in RULE_MESSAGES)
