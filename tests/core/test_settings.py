"""The server key: refused at start-up when it is short, published or a placeholder."""

import pytest

from audiences.app import create_app
from audiences.core.settings import PUBLISHED_SECRET_KEYS, Settings, secret_key_problem
from tests.conftest import SECRET_KEY


class TestSecretKeyProblem:
    def test_a_random_key_of_32_characters_or_more_is_accepted(self):
        assert secret_key_problem("kR3vZ9qL0xWm4Tb7Yc2Ns8Pd1Fh6Gj5A") is None
        assert secret_key_problem(SECRET_KEY) is None

    @pytest.mark.parametrize("key", ["", None, "server-test-key", "x" * 31])
    def test_an_unset_or_short_key_is_refused(self, key: str | None):
        assert "AUDIENCES_SECRET_KEY" in (secret_key_problem(key) or "")

    @pytest.mark.parametrize(
        "key",
        [
            *sorted(PUBLISHED_SECRET_KEYS),
            "CHANGE-ME-TO-A-LONG-RANDOM-STRING",
            "please-changeme-0123456789abcdefgh",
        ],
    )
    def test_a_published_or_placeholder_key_is_refused(self, key: str):
        if len(key) >= 32:
            assert "placeholder" in (secret_key_problem(key) or "")
        else:
            assert secret_key_problem(key) is not None

    def test_a_few_characters_repeated_are_refused(self):
        assert "random" in (secret_key_problem("ab12" * 10) or "")


def test_create_app_refuses_the_compose_file_s_old_default(database_url: str):
    settings = Settings(
        database_url=database_url,
        secret_key="change-me-to-a-long-random-string",
        _env_file=None,  # type: ignore[call-arg]
    )
    with pytest.raises(RuntimeError, match="placeholder"):
        create_app(settings)
