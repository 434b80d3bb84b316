"""The foundation's promise, end to end: an OAuth 1.0a client built on requests-oauthlib, pointed
at /integrationservice-1.1.0 of a real server, goes through a CDP's whole audience life cycle."""

import json

import requests
from requests_oauthlib import OAuth1

from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, Server


def test_a_cdp_synchronizes_an_audience_of_2500_contacts(server: Server):
    api = f"{server.url}/integrationservice-1.1.0"
    http = requests.Session()
    http.auth = OAuth1(BOOTSTRAP_KEY, client_secret=BOOTSTRAP_SECRET, signature_method="HMAC-SHA1")

    ids = [f"cdp-{i:05d}" for i in range(2500)]
    for start in range(0, len(ids), 100):
        contacts = [
            {"externalId": e, "properties": {"email": f"{e}@example.com"}}
            for e in ids[start : start + 100]
        ]
        response = http.post(f"{api}/contact/list", json={"contacts": contacts})
        assert response.status_code == 200, response.text
        assert {item["code"] for item in response.json()} == {"OK"}

    response = http.post(
        f"{api}/audience", json={"externalId": "visitors-last-month", "name": "Visitors"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["lastContactAddedAt"] is None

    response = http.post(f"{api}/audience/visitors-last-month/contact", json={"contacts": ids})
    assert response.status_code == 204, response.text

    audience = http.get(f"{api}/audience/visitors-last-month")
    assert audience.status_code == 200
    assert audience.json()["lastContactAddedAt"] is not None
    assert audience.json()["lastSyncDate"] is not None

    response = http.delete(
        f"{api}/audience/visitors-last-month/contact", json={"contacts": [ids[0]]}
    )
    assert response.status_code == 204
    assert http.get(f"{api}/audience/visitors-last-month").json()["lastContactRemovedAt"]

    assert http.delete(f"{api}/audience/visitors-last-month/contact").status_code == 204
    assert http.delete(f"{api}/audience/visitors-last-month").status_code == 204
    assert http.get(f"{api}/audience/visitors-last-month").status_code == 404


def test_the_other_base_path_and_basic_auth_work_too(server: Server):
    api = f"{server.url}/integrationservice"
    response = requests.get(
        f"{api}/contact/properties/list", auth=(BOOTSTRAP_KEY, BOOTSTRAP_SECRET), timeout=10
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"]


def test_secrets_never_reach_the_log(server: Server):
    requests.get(
        f"{server.url}/integrationservice/audience/x",
        auth=(BOOTSTRAP_KEY, BOOTSTRAP_SECRET),
        timeout=10,
    )
    requests.get(
        f"{server.url}/integrationservice/audience/x",
        auth=(BOOTSTRAP_KEY, "wrong-guess"),
        timeout=10,
    )
    log = server.output()
    assert "GET /integrationservice/audience/x" in log
    assert BOOTSTRAP_SECRET not in log
    assert "wrong-guess" not in log


def test_metrics_sum_every_worker(server: Server):
    for _ in range(20):  # new connections: the kernel spreads them over both workers
        requests.get(
            f"{server.url}/integrationservice/ping",
            auth=(BOOTSTRAP_KEY, BOOTSTRAP_SECRET),
            timeout=10,
        )
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    lines = [
        line
        for line in text.splitlines()
        if line.startswith("audiences_http_requests_total{") and 'route="/ping"' in line
    ]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in lines) >= 20
    assert "audiences_db_pool_connections" in text


def test_wire_quirks_hold_over_real_http(server: Server):
    """What the in-process wire tests check, through uvicorn: the path and raw bytes as a real
    HTTP server hands them over."""
    api = f"{server.url}/integrationservice-1.1.0"
    http = requests.Session()
    http.auth = OAuth1(BOOTSTRAP_KEY, client_secret=BOOTSTRAP_SECRET, signature_method="HMAC-SHA1")
    # The Magento module's trailing slash, an e-mail address and a non-ASCII id, OAuth-signed.
    for external_id in ("wire@example.com", "café-1"):
        body = {"contact": {"externalId": external_id}, "update": True}
        response = http.post(f"{api}/contact/", json=body, allow_redirects=False)
        assert response.status_code == 204, response.text
        response = http.get(f"{api}/contact/{external_id}")
        assert response.status_code == 200, response.text
        assert response.json()["externalId"] == external_id
    # A JSON body with no content type (the TypeScript client).
    response = http.post(
        f"{api}/audience/",
        data=json.dumps({"externalId": "wire", "name": "Wire"}),
        allow_redirects=False,
    )
    assert response.status_code == 200, response.text
    head = http.head(f"{api}/audience/wire")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "application/json"
    options = requests.options(f"{api}/audience/wire", timeout=10)
    assert options.headers["allow"] == "GET, HEAD, PUT, DELETE, OPTIONS"
