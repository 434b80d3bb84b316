"""The pytest plugin, as a connector's suite uses it: `pip install audiences`, then a service per
session and an account per test, with a real 503 to test a retry path against; and nothing at
all for a suite that asks for neither fixture."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONNECTOR_SUITE = '''
import time
from pathlib import Path

import httpx

KEYS = []
# Generous: the machine running the suite may be busy.
http = httpx.Client(timeout=60)


def create_with_retries(account, external_id):
    """A connector's retry path: 503 and 429 are retried after Retry-After."""
    attempts = 0
    while True:
        attempts += 1
        answer = http.post(
            f"{account.base_url}/audience",
            json={"externalId": external_id, "name": external_id},
            auth=(account.consumer_key, account.consumer_secret),
        )
        if answer.status_code not in (429, 503):
            return answer, attempts
        time.sleep(float(answer.headers["Retry-After"]) / 10)


def test_the_service_answers(audiences_service):
    assert http.get(f"{audiences_service.url}/readyz").status_code == 200
    Path("data_dir.txt").write_text(audiences_service.data_dir)


def test_one_account(audiences_account):
    assert audiences_account.base_url.endswith("/integrationservice-1.1.0")
    answer, _ = create_with_retries(audiences_account, "shared")
    assert answer.status_code == 200
    KEYS.append(audiences_account.consumer_key)


def test_another_account_sees_nothing_of_it(audiences_account):
    listed = http.get(f"{audiences_account.base_url}/audience", auth=audiences_account.auth)
    assert listed.json()["audiences"] == []
    assert audiences_account.consumer_key not in KEYS


def test_the_retry_path_meets_a_real_503(audiences_account):
    fault = http.post(
        f"{audiences_account.base_url}/testing/faults",
        json={"method": "POST", "path": "/audience", "status": 503, "times": 2},
        auth=audiences_account.auth,
    )
    assert fault.status_code == 201
    answer, attempts = create_with_retries(audiences_account, "retried")
    assert (answer.status_code, attempts) == (200, 3)
'''


def test_a_connector_suite_gets_a_service_and_an_account_per_test(pytester: pytest.Pytester):
    pytester.makepyfile(test_connector=CONNECTOR_SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(passed=4)
    data_dir = (pytester.path / "data_dir.txt").read_text()
    assert data_dir and not Path(data_dir).exists()
    # The service's log lies under the run's temporary folder (what the next test looks for).
    assert list(pytester.path.rglob("audiences.log"))


def test_a_suite_that_asks_for_no_fixture_starts_nothing(pytester: pytest.Pytester):
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures", timeout=60)
    assert "audiences_account" in result.stdout.str()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", timeout=60)
    result.assert_outcomes(passed=1)
    assert not list(pytester.path.rglob("audiences.log"))
    assert "audiences" not in result.stdout.str().split("collected", 1)[1]
