"""`audiences account rename|products|disable|enable` and `audiences key list`: changing an
account after it was made, and seeing its keys (never their secrets)."""

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from audiences.accounts import service as accounts_service
from audiences.accounts.models import Account
from audiences.cli_support import admin_settings, console, fail, in_transaction, one_line_errors
from audiences.core.settings import PRODUCTS, parse_products

AccountId = Annotated[int, typer.Argument(help="The account's id (see `audiences account list`).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ProductOption = Annotated[
    list[str], typer.Option("--product", "-p", help=f"One of {', '.join(PRODUCTS)}; repeatable.")
]


def _moment(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def account_json(account: Account) -> dict[str, Any]:
    return {
        "accountId": account.account_id,
        "name": account.name,
        "products": list(account.products),
        "disabledAt": _moment(account.disabled_at),
    }


def _show(account: Account, as_json: bool, done: str) -> None:
    if as_json:
        typer.echo(json.dumps(account_json(account)))
        return
    state = "disabled" if account.disabled_at else "enabled"
    console.print(
        f"{done}: account {account.account_id} “{account.name}”, "
        f"products {', '.join(account.products)}, {state}"
    )


@one_line_errors
def account_rename(
    account: AccountId,
    name: Annotated[str, typer.Argument(help="The new name.")],
    as_json: JsonFlag = False,
) -> None:
    """Give an account a new name."""
    settings = admin_settings()
    renamed = in_transaction(settings, lambda s: accounts_service.rename_account(s, account, name))
    _show(renamed, as_json, "Renamed")


@one_line_errors
def account_products(account: AccountId, product: ProductOption, as_json: JsonFlag = False) -> None:
    """Set an account's products (exactly those given); audience calls need automation or
    ecommerce."""
    try:
        products = parse_products(",".join(product))
    except ValueError as exc:
        fail(str(exc), code=2)
    settings = admin_settings()
    changed = in_transaction(
        settings, lambda s: accounts_service.change_products(s, account, products)
    )
    _show(changed, as_json, "Products set")


@one_line_errors
def account_disable(account: AccountId, as_json: JsonFlag = False) -> None:
    """Disable an account: its keys are refused from the next request on (API and console);
    nothing is deleted."""
    settings = admin_settings()
    disabled = in_transaction(settings, lambda s: accounts_service.set_disabled(s, account, True))
    _show(disabled, as_json, "Disabled")


@one_line_errors
def account_enable(account: AccountId, as_json: JsonFlag = False) -> None:
    """Enable a disabled account: its keys work again."""
    settings = admin_settings()
    enabled = in_transaction(settings, lambda s: accounts_service.set_disabled(s, account, False))
    _show(enabled, as_json, "Enabled")


@one_line_errors
def key_list(
    account: Annotated[
        int | None, typer.Option("--account", help="Only this account's keys.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List consumer keys with their account and state (secrets are never shown again)."""
    settings = admin_settings()
    rows = in_transaction(settings, lambda s: accounts_service.list_keys(s, account))
    data = [
        {
            "consumerKey": key.consumer_key,
            "accountId": owner.account_id,
            "account": owner.name,
            "createdAt": _moment(key.created_at),
            "revokedAt": _moment(key.revoked_at),
            "active": key.revoked_at is None and owner.disabled_at is None,
        }
        for key, owner in rows
    ]
    if as_json:
        typer.echo(json.dumps(data))
        return
    table = Table("consumer key", "account", "created", "state")
    for item, (key, owner) in zip(data, rows, strict=True):
        state = (
            f"revoked {item['revokedAt']}"
            if key.revoked_at
            else "account disabled"
            if owner.disabled_at
            else "active"
        )
        table.add_row(
            str(item["consumerKey"]),
            f"{owner.account_id} {owner.name}",
            str(item["createdAt"]),
            state,
        )
    console.print(table)
