"""Who is calling: credentials, OAuth 1.0a signatures, nonces, throttling and rate counting."""
