"""Consumer secrets: made here, shown once, stored encrypted with the server key."""

import base64
import hashlib
import secrets
import string

from cryptography.fernet import Fernet, InvalidToken
from starlette.requests import Request

_ALPHABET = string.ascii_letters + string.digits


def random_token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_consumer_key() -> str:
    return random_token(24)


def new_consumer_secret() -> str:
    return random_token(40)


def new_server_key() -> str:
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    """Encrypts and decrypts consumer secrets with a key derived from AUDIENCES_SECRET_KEY."""

    def __init__(self, server_key: str) -> None:
        if not server_key:
            raise ValueError("the server secret key is empty")
        derived = hashlib.sha256(server_key.encode("utf-8")).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))
        # Every request decrypts its key's secret; the same token always gives the same secret.
        self._decrypted: dict[str, str | None] = {}

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str | None:
        """The secret, or None when it was encrypted with another server key."""
        if token in self._decrypted:
            return self._decrypted[token]
        try:
            secret: str | None = self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            secret = None
        if len(self._decrypted) >= 10_000:
            self._decrypted.clear()
        self._decrypted[token] = secret
        return secret


def secret_box(request: Request) -> SecretBox:
    """The application's box for consumer secrets."""
    box: SecretBox = request.app.state.secret_box
    return box
