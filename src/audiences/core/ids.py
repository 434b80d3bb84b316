import secrets


def new_public_id() -> str:
    """An opaque, unguessable id for objects the server names (mailings, campaigns, ...)."""
    return secrets.token_urlsafe(12)
