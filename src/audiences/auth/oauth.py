"""OAuth 1.0a (RFC 5849) as Spotler clients sign: the protocol parameters may come in the
Authorization header (3.5.1), the query string (3.5.3) or a form-encoded body (3.5.2); the
signature covers the method, the URL as sent and every signed parameter (3.4.1), and is
computed by oauthlib."""

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlunsplit
from urllib.request import parse_http_list

from oauthlib.oauth1.rfc5849 import signature

# A timestamp is seconds since the epoch in ASCII digits (not any Unicode digit), of a sane size.
TIMESTAMP = re.compile(r"[0-9]{1,12}")


class MalformedOAuth(ValueError):
    """OAuth parameters that cannot be read as RFC 5849 describes them."""


@dataclass(frozen=True)
class SignedRequest:
    """What a request presents: its protocol parameters (`oauth_*`, signature included), and
    every parameter its signature covers, with and without a form body's (a client decides
    whether a body sent as form-encoded was one)."""

    oauth: dict[str, str]
    signed: list[tuple[str, str]]
    signed_with_body: list[tuple[str, str]] | None


def _header_params(authorization: str) -> list[tuple[str, str]]:
    """The parameters of an `OAuth ...` header, in order and percent-decoded; a repeated one
    stays repeated (so that it can be refused)."""
    pairs = []
    for item in parse_http_list(authorization[6:]):
        name, sep, value = item.strip().partition("=")
        if not sep:
            raise MalformedOAuth(f"Malformed OAuth Authorization header near {item[:40]!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        pairs.append((unquote(name.strip()), unquote(value)))
    return pairs


def _form_params(body: bytes) -> list[tuple[str, str]] | None:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return None


def _unsigned(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in pairs if name != "oauth_signature"]


def read_signed_request(
    authorization: str | None, query: str, form_body: bytes | None
) -> SignedRequest | None:
    """The request's OAuth parameters wherever they came, or None when it carries none."""
    header = _header_params(authorization) if authorization else []
    try:
        query_params = parse_qsl(query, keep_blank_values=True)
    except ValueError as exc:
        raise MalformedOAuth("Malformed query string") from exc
    body_params = _form_params(form_body) if form_body else None
    oauth = [
        (name, value)
        for name, value in [*header, *query_params, *(body_params or ())]
        if name.startswith("oauth_")
    ]
    if not oauth:
        return None
    repeated = [name for name, count in Counter(name for name, _ in oauth).items() if count > 1]
    if repeated:
        raise MalformedOAuth(f"The OAuth parameter {repeated[0]} appears more than once")
    signed = _unsigned([(n, v) for n, v in header if n != "realm"]) + _unsigned(query_params)
    with_body = signed + _unsigned(body_params) if body_params else None
    return SignedRequest(dict(oauth), signed, with_body)


def _path_forms(sent: str) -> list[str]:
    """The path as sent, and the two other forms clients are seen to sign when they send it
    percent-encoded: decoded, and every reserved character encoded (PHP's rawurlencode)."""
    decoded = unquote(sent, errors="strict") if "%" in sent else sent
    forms = [sent, decoded, quote(decoded, safe="/")]
    return list(dict.fromkeys(forms))


@dataclass(frozen=True)
class _Candidate:
    """One reading of the request, in the shape oauthlib's verification reads."""

    http_method: str
    uri: str
    params: list[tuple[str, str]]
    signature: str


def signature_matches(
    request: SignedRequest, method: str, scheme: str, host: str, sent_path: str, secret: str
) -> bool:
    """RFC 5849 3.4: HMAC-SHA1 over the method, the base string URI (scheme, host and the path
    as sent) and the normalized signed parameters, keyed by the secret and "&"."""
    given = request.oauth.get("oauth_signature", "")
    variants = [request.signed]
    if request.signed_with_body is not None:
        variants.append(request.signed_with_body)
    try:
        paths = _path_forms(sent_path)
    except UnicodeDecodeError:
        paths = [sent_path]
    for path in paths:
        uri = urlunsplit((scheme, host, path, "", ""))
        for params in variants:
            try:
                if signature.verify_hmac_sha1(_Candidate(method, uri, params, given), secret):
                    return True
            except ValueError:  # a host or port oauthlib cannot read
                return False
    return False
