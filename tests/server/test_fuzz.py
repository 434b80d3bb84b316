"""Schemathesis against the service's own OpenAPI document, every check (`--checks all`,
ignored auth included): every operation, authenticated, with real ids to reach past the 404s,
a fixed budget. Zero failures: no 5xx, every response as declared, every request the document
allows is accepted and every request it forbids is refused, with the refusals no schema can
state (tests/server/fuzz_hooks.py) let through by name."""

import os
import subprocess
import sys
from pathlib import Path

import requests

from tests.server.conftest import BOOTSTRAP_KEY, BOOTSTRAP_SECRET, Server

ST = str(Path(sys.executable).with_name("st"))
ROOT = Path(__file__).resolve().parents[2]
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
        # Deletes are left their generated ids (and the stateful phase's): a seeded object
        # deleted early would turn every later call that names it into a 404.
        return (
            f'[[operations]]\ninclude-path-regex = "{paths}"\nexclude-method = "DELETE"\n'
            f"parameters = {{ {parameters} }}\n"
        )

    # The repository's own configuration (hooks, the vendor's 417), then this run's.
    return "\n".join(
        [
            (ROOT / "schemathesis.toml").read_text(),
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
            "all",
            "--workers",
            "2",
            "--seed",
            "20261127",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        env={**os.environ, "AUDIENCES_FUZZ_SEEDED": " ".join(["fz-a", "fz-c", *ids.values()])},
    )
    # The failures (each with its curl), then the summary: enough to reproduce any of them.
    failures = result.stdout.partition("= FAILURES =")[2].partition("= WARNINGS =")[0]
    summary = failures[:20000] + result.stdout[-1500:]
    print(result.stdout[-1500:])
    assert result.returncode == 0, summary
    assert "Serialization not possible" not in result.stdout, summary
