"""`audiences`: serve the API, migrate the database, manage accounts and keys, import files."""

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from audiences import __version__, cli_accounts, cli_serve
from audiences.accounts import service as accounts_service
from audiences.cli_import import import_app
from audiences.cli_support import (
    admin_settings,
    console,
    describe_database,
    errors,
    fail,
    in_transaction,
    one_line_errors,
    resolved_settings,
    secret_box,
    show_credential,
)
from audiences.contacts import definitions as contact_definitions
from audiences.contacts.properties import PROPERTY_TYPES
from audiences.contacts.schemas import DefinedProperty, PropertyCreate, PropertyUpdate, SetEntryIn
from audiences.core import migrate
from audiences.core.settings import PRODUCTS, parse_products

# Plain help: typer's rich help shows every flag as taking a value (`--json <bool>`).
app = typer.Typer(
    help="The audiences service.", no_args_is_help=True, add_completion=False, rich_markup_mode=None
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True, rich_markup_mode=None)
account_app = typer.Typer(help="Accounts.", no_args_is_help=True, rich_markup_mode=None)
key_app = typer.Typer(help="Consumer keys.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(db_app, name="db")
app.add_typer(account_app, name="account")
app.add_typer(key_app, name="key")
property_app = typer.Typer(
    help="An account's contact properties.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(import_app, name="import")
app.command()(cli_serve.serve)
app.add_typer(property_app, name="property")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
T = TypeVar("T")


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"audiences {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Serve the API, migrate the database, manage accounts and keys, import files."""


@db_app.command("upgrade")
@one_line_errors
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="The revision to reach.")] = "head",
) -> None:
    """Apply the migrations up to `revision` (default: the newest); makes the embedded
    database when none is configured."""
    settings, embedded = resolved_settings(create=True)
    errors.print(f"Database: {describe_database(settings, embedded)}")
    assert settings.database_url
    migrate.upgrade(settings.database_url, revision)
    console.print(f"database at {migrate.head_revision() if revision == 'head' else revision}")


ProductOption = Annotated[
    list[str], typer.Option("--product", "-p", help=f"One of {', '.join(PRODUCTS)}; repeatable.")
]


@account_app.command("create")
@one_line_errors
def account_create(
    name: Annotated[str, typer.Option(help="Account name.")],
    product: ProductOption,
    as_json: JsonFlag = False,
) -> None:
    """Create an account and print its consumer key and secret (shown once)."""
    try:
        products = parse_products(",".join(product))
    except ValueError as exc:
        fail(str(exc), code=2)
    settings = admin_settings()
    box = secret_box(settings)
    issued = in_transaction(
        settings, lambda s: accounts_service.create_account(s, box, name, products)
    )
    show_credential(issued, as_json)


@account_app.command("list")
@one_line_errors
def account_list(as_json: JsonFlag = False) -> None:
    """List accounts with their products, state and number of active keys."""
    settings = admin_settings()
    rows: list[Any] = in_transaction(settings, accounts_service.list_accounts)
    data = [{**cli_accounts.account_json(account), "activeKeys": keys} for account, keys in rows]
    if as_json:
        typer.echo(json.dumps(data))
        return
    table = Table("id", "name", "products", "active keys", "state")
    for item in data:
        table.add_row(
            str(item["accountId"]),
            str(item["name"]),
            ", ".join(item["products"]),
            str(item["activeKeys"]),
            "disabled" if item["disabledAt"] else "enabled",
        )
    console.print(table)


account_app.command("rename")(cli_accounts.account_rename)
account_app.command("products")(cli_accounts.account_products)
account_app.command("disable")(cli_accounts.account_disable)
account_app.command("enable")(cli_accounts.account_enable)
key_app.command("list")(cli_accounts.key_list)


@key_app.command("create")
@one_line_errors
def key_create(
    account: Annotated[int, typer.Option("--account", help="Account id.")],
    as_json: JsonFlag = False,
) -> None:
    """Create another consumer key for an account (the secret is shown once)."""
    settings = admin_settings()
    box = secret_box(settings)
    issued = in_transaction(settings, lambda s: accounts_service.create_key(s, box, account))
    show_credential(issued, as_json)


@key_app.command("revoke")
@one_line_errors
def key_revoke(consumer_key: Annotated[str, typer.Argument(help="The consumer key.")]) -> None:
    """Revoke a consumer key: refused from the next request on."""
    settings = admin_settings()
    revoked = in_transaction(settings, lambda s: accounts_service.revoke_key(s, consumer_key))
    if not revoked:
        fail("No active key with that name.")
    console.print(f"revoked {consumer_key}")


AccountOption = Annotated[int, typer.Option("--account", help="Account id.")]
EntryOption = Annotated[
    list[str] | None,
    typer.Option(
        "--entry", "-e", help="A set's entry as BIT=Description, e.g. 1=Newsletter; repeatable."
    ),
]


def _entries(given: list[str] | None) -> list[SetEntryIn] | None:
    """BIT=Description options as set entries, in the order given."""
    if given is None:
        return None
    entries = []
    for item in given:
        bit, separator, description = item.partition("=")
        if not separator or not bit.strip().isdecimal():
            errors.print(f"[red]--entry {item!r}: write it as BIT=Description[/red]")
            raise typer.Exit(2)
        entries.append(SetEntryIn(bit=int(bit), description=description.strip()))
    return entries


def _property_work(account: int, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Runs `work` for an existing account, in one transaction."""
    settings = admin_settings()

    async def checked(session: AsyncSession) -> T:
        await accounts_service.require_account(session, account)
        return await work(session)

    return in_transaction(settings, checked)


def _show_properties(items: list[DefinedProperty], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([p.model_dump() for p in items]))
        return
    table = Table("name", "type", "description", "entries", "standard")
    for item in items:
        entries = "; ".join(f"{e.bit}={e.description}" for e in item.entries or ())
        table.add_row(
            item.name, item.type, item.description, entries, "yes" if item.standard else ""
        )
    console.print(table)


@property_app.command("list")
@one_line_errors
def property_list(account: AccountOption, as_json: JsonFlag = False) -> None:
    """List the contact properties of an account: the standard ones, then its own."""
    items = _property_work(account, lambda s: contact_definitions.list_properties(s, account))
    _show_properties(items, as_json)


@property_app.command("add")
@one_line_errors
def property_add(
    account: AccountOption,
    name: Annotated[str, typer.Argument(help="1 to 64 letters, digits or _.")],
    kind: Annotated[str, typer.Option("--type", help=f"One of {', '.join(PROPERTY_TYPES)}.")],
    description: Annotated[str | None, typer.Option(help="Default: the name.")] = None,
    entry: EntryOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Define a contact property for an account (a set with --entry options)."""
    try:
        body = PropertyCreate(
            name=name, type=kind, description=description, entries=_entries(entry)
        )
    except ValidationError as exc:
        errors.print(f"[red]{exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}[/red]")
        raise typer.Exit(2) from exc
    created = _property_work(account, lambda s: contact_definitions.add_property(s, account, body))
    _show_properties([created], as_json)


@property_app.command("update")
@one_line_errors
def property_update(
    account: AccountOption,
    name: Annotated[str, typer.Argument(help="The property's name.")],
    description: Annotated[str | None, typer.Option(help="Its new description.")] = None,
    entry: EntryOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a property's description or a set's entries (all of them: a bit left out is
    removed from every contact)."""
    body = PropertyUpdate(description=description, entries=_entries(entry))
    changed = _property_work(
        account, lambda s: contact_definitions.update_property(s, account, name, body)
    )
    _show_properties([changed], as_json)


@property_app.command("remove")
@one_line_errors
def property_remove(
    account: AccountOption,
    name: Annotated[str, typer.Argument(help="The property's name.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove an account-defined property and its value from every contact."""
    if not yes and not typer.confirm(
        f"Remove {name!r} and its value from every contact of account {account}?"
    ):
        raise typer.Exit(1)
    _property_work(account, lambda s: contact_definitions.remove_property(s, account, name))
    console.print(f"removed {name}")


def main() -> None:
    app()
