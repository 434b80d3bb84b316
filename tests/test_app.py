"""What the application's start-up sets for the whole process."""

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from tests.conftest import Tenant

LIST = "/integrationservice/contact/list"


@pytest.fixture
def collector() -> Iterator[None]:
    """Start-up tunes the collector for the whole process: put it back afterwards."""
    saved = gc.get_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*saved)
        gc.unfreeze()


def _list(round_: int) -> dict[str, Any]:
    """50 new contacts and the previous round's 50 again, as a CDP sends them."""
    contacts = [
        {
            "externalId": f"gc-{r}-{i}",
            "properties": {"email": f"p{i}@example.com", "firstName": "Ann", "city": "Delft"},
        }
        for r in (round_, round_ - 1)
        for i in range(50)
    ]
    return {"update": True, "contacts": contacts}


@pytest.mark.usefixtures("collector")
async def test_lists_of_100_contacts_leave_their_garbage_to_reference_counting(
    app: FastAPI, tenant: Tenant
) -> None:
    started: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(info["generation"])

    async with app.router.lifespan_context(app):
        response = await tenant.client.post(LIST, json=_list(0))
        assert response.status_code == 200, response.text
        gc.collect()
        gc.callbacks.append(record)
        try:
            for round_ in range(1, 6):
                response = await tenant.client.post(LIST, json=_list(round_))
                assert response.status_code == 200, response.text
        finally:
            gc.callbacks.remove(record)
    # At Python's default threshold (700) the same five lists started about ten.
    assert started == []
