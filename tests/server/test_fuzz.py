"""Schemathesis against the service's own OpenAPI document: every operation, authenticated,
with real ids to reach past the 404s, a fixed budget. Zero 5xx, and every response matches
its declared status and schema (the document must tell the truth for this to pass)."""

import os
import subprocess
import sys
from pathlib import Path

import requests

from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, Server

ST = str(Path(sys.executable).with_name("st"))
MAX_EXAMPLES = int(os.environ.get("AUDIENCES_FUZZ_EXAMPLES", "6"))


def seed(api: str) -> dict[str, str]:
    """Objects for the fuzzed ids to name."""
    http = requests.Session()
    http.auth = (BOOTSTRAP_KEY, BOOTSTRAP_SECRET)

    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        response = http.post(f"{api}{path}", json=body, timeout=10)
        assert response.status_code < 300, response.text
        return response.json() if response.content else {}

    post("/contact", {"contact": {"externalId": "fz-c", "properties": {"email": "fz@example.com"}}})
    for audience in ("fz-a", "fz-delete"):
        post("/audience", {"externalId": audience, "name": audience})
    post("/audience/fz-a/contact", {"contacts": ["fz-c"]})
    mailing = post(
        "/mailing",
        {"name": "fz", "type": "EMAIL", "audienceExternalId": "fz-a", "permissionBit": 1},
    )
    automailer = post(
        "/automailer",
        {
            "name": "fz",
            "audienceExternalId": "fz-a",
            "permissionBit": 1,
            "period": "P1D",
            "firstSendingMoment": "2026-01-01T00:00:00Z",
            "lastSendingMoment": "2099-01-01T00:00:00Z",
        },
    )
    flows = {
        kind: post(
            f"/{kind}", {"name": "fz", "steps": [{"name": "s", "audienceFilters": ["fz-a"]}]}
        )
        for kind in ("campaign", "automation")
    }
    message = post("/message", {"name": "fz", "blocks": [{"name": "b", "content": "x"}]})
    return {
        "mailing": str(mailing["encryptedId"]),
        "automailer": str(automailer["id"]),
        "campaign": str(flows["campaign"]["id"]),
        "campaign_step": str(flows["campaign"]["steps"][0]["id"]),  # type: ignore[index]
        "automation": str(flows["automation"]["id"]),
        "automation_step": str(flows["automation"]["steps"][0]["id"]),  # type: ignore[index]
        "message": str(message["id"]),
    }


def config(ids: dict[str, str]) -> str:
    def operations(paths: str, parameters: str) -> str:
        return f'[[operations]]\ninclude-path-regex = "{paths}"\nparameters = {{ {parameters} }}\n'

    return "\n".join(
        [
            f'[auth]\nbasic = {{ username = "{BOOTSTRAP_KEY}", password = "{BOOTSTRAP_SECRET}" }}',
            f"[generation]\nmax-examples = {MAX_EXAMPLES}",
            operations(
                "^/audience/", '"path.externalId" = "fz-a", "path.contactExternalId" = "fz-c"'
            ),
            operations("^/contact/", '"path.externalId" = "fz-c"'),
            operations("^/mailing/", f'"path.encryptedId" = "{ids["mailing"]}"'),
            operations("^/automailer/", f'"path.id" = "{ids["automailer"]}"'),
            operations(
                "^/campaign/",
                f'"path.id" = "{ids["campaign"]}", "path.stepId" = "{ids["campaign_step"]}", '
                '"query.contact" = "fz-c"',
            ),
            operations(
                "^/automation/",
                f'"path.id" = "{ids["automation"]}", "path.stepId" = "{ids["automation_step"]}", '
                '"query.contact" = "fz-c"',
            ),
            operations("^/message/", f'"path.id" = "{ids["message"]}", "query.contact" = "fz-c"'),
        ]
    )


def test_the_openapi_document_tells_the_truth(server: Server, tmp_path: Path):
    ids = seed(f"{server.url}/integrationservice")
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(config(ids))
    result = subprocess.run(
        [
            ST,
            "--config-file",
            str(config_file),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--workers",
            "2",
            "--seed",
            "20261127",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.server.fuzz_hooks"},
        cwd=Path(__file__).resolve().parents[2],
    )
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary
    assert "Serialization not possible" not in result.stdout, summary
