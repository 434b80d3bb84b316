"""`audiences`: serve the API, migrate the database, manage accounts and keys."""

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.accounts import service as accounts_service
from audiences.accounts.service import IssuedCredential
from audiences.contacts import definitions as contact_definitions
from audiences.contacts.properties import PROPERTY_TYPES
from audiences.contacts.schemas import DefinedProperty, PropertyCreate, PropertyUpdate, SetEntryIn
from audiences.core import migrate, server
from audiences.core.credentials import SecretBox
from audiences.core.db import create_engine, create_sessionmaker
from audiences.core.embedded import embedded_secret_key, start_embedded
from audiences.core.errors import DomainError
from audiences.core.logs import configure_logging
from audiences.core.settings import PRODUCTS, Settings, parse_products

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
account_app = typer.Typer(help="Accounts.", no_args_is_help=True)
key_app = typer.Typer(help="Consumer keys.", no_args_is_help=True)
property_app = typer.Typer(help="An account's contact properties.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(account_app, name="account")
app.add_typer(key_app, name="key")
app.add_typer(property_app, name="property")

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def resolved_settings() -> tuple[Settings, bool]:
    """Settings from the environment, with the embedded database (and its server key) filled
    in when no database URL is given (then True). Exported, so server workers see them too."""
    settings = Settings()
    embedded = settings.embedded
    if embedded:
        url = start_embedded(settings.data_dir)
        settings = settings.model_copy(update={"database_url": url})
        os.environ["AUDIENCES_DATABASE_URL"] = url
        if not settings.secret_key:
            key = embedded_secret_key(settings.data_dir)
            settings = settings.model_copy(update={"secret_key": key})
            os.environ["AUDIENCES_SECRET_KEY"] = key
    return settings, embedded


def _migrated_settings() -> Settings:
    """Resolved settings of a database whose schema is at the newest migration."""
    settings, _ = resolved_settings()
    assert settings.database_url
    migrate.upgrade(settings.database_url)
    return settings


def _secret_box(settings: Settings) -> SecretBox:
    if not settings.secret_key:
        errors.print(
            "[red]AUDIENCES_SECRET_KEY is required with AUDIENCES_DATABASE_URL[/red] "
            "(any long random string; it encrypts consumer secrets)."
        )
        raise typer.Exit(2)
    return SecretBox(settings.secret_key)


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings, pool_size=1, max_overflow=0)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except DomainError as error:
        errors.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from error


def _show_credential(issued: IssuedCredential, as_json: bool) -> None:
    data = {
        "accountId": issued.account_id,
        "name": issued.account_name,
        "products": issued.products,
        "consumerKey": issued.consumer_key,
        "consumerSecret": issued.consumer_secret,
    }
    if as_json:
        typer.echo(json.dumps(data))
        return
    console.print(f"account id:      {issued.account_id} ({issued.account_name})")
    console.print(f"products:        {', '.join(issued.products)}")
    console.print(f"consumer key:    [bold]{issued.consumer_key}[/bold]")
    console.print(f"consumer secret: [bold]{issued.consumer_secret}[/bold]")
    console.print("[yellow]The secret is shown only now; keep it safe.[/yellow]")


def _bootstrap(settings: Settings, box: SecretBox, embedded: bool) -> IssuedCredential | None:
    """Applies the bootstrap credential, and on a first embedded start makes a development
    account whose credential is returned for printing."""
    if bool(settings.bootstrap_key) != bool(settings.bootstrap_secret):
        errors.print("[red]Set both AUDIENCES_BOOTSTRAP_KEY and AUDIENCES_BOOTSTRAP_SECRET.[/red]")
        raise typer.Exit(2)

    async def work(session: AsyncSession) -> IssuedCredential | None:
        if settings.bootstrap_key and settings.bootstrap_secret:
            await accounts_service.ensure_credential(
                session,
                box,
                settings.bootstrap_key,
                settings.bootstrap_secret,
                parse_products(settings.bootstrap_products),
            )
        if embedded:
            return await accounts_service.ensure_development_account(session, box)
        return None

    return _in_transaction(settings, work)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
) -> None:
    """Apply migrations, then serve the API (on an embedded PostgreSQL when no database URL
    is set)."""
    configure_logging(Settings().log_level)
    settings, embedded = resolved_settings()
    box = _secret_box(settings)
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    assert settings.database_url
    migrate.upgrade(settings.database_url)
    development = _bootstrap(settings, box, embedded)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    base = f"http://{shown_host}:{port}"
    if embedded:
        console.print(f"Embedded PostgreSQL in {settings.data_dir}")
    console.print(f"API:  {base}/integrationservice  (also {base}/integrationservice-1.1.0)")
    console.print(f"Docs: {base}/docs")
    if development is not None:
        console.print("A development account was created:")
        _show_credential(development, as_json=False)
    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting through SystemExit instead
    # runs the exit handlers, which stop the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    server.serve(host, port, workers, settings.trust_proxy, settings.log_level)


def _exit_on_signal(signum: int, _frame: object) -> None:
    sys.exit(128 + signum)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations up to `revision` (default: the newest)."""
    settings, _ = resolved_settings()
    assert settings.database_url
    migrate.upgrade(settings.database_url, revision)
    console.print(f"database at {migrate.head_revision() if revision == 'head' else revision}")


ProductOption = Annotated[
    list[str], typer.Option("--product", "-p", help=f"One of {', '.join(PRODUCTS)}; repeatable.")
]


@account_app.command("create")
def account_create(
    name: Annotated[str, typer.Option(help="Account name.")],
    product: ProductOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an account and print its consumer key and secret (shown once)."""
    try:
        products = parse_products(",".join(product))
    except ValueError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    settings = _migrated_settings()
    box = _secret_box(settings)
    issued = _in_transaction(
        settings, lambda s: accounts_service.create_account(s, box, name, products)
    )
    _show_credential(issued, as_json)


@account_app.command("list")
def account_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List accounts with their products and number of active keys."""
    settings = _migrated_settings()
    rows: list[Any] = _in_transaction(settings, accounts_service.list_accounts)
    data = [
        {"accountId": a.account_id, "name": a.name, "products": a.products, "activeKeys": n}
        for a, n in rows
    ]
    if as_json:
        typer.echo(json.dumps(data))
        return
    table = Table("id", "name", "products", "active keys")
    for item in data:
        table.add_row(
            str(item["accountId"]),
            str(item["name"]),
            ", ".join(item["products"]),
            str(item["activeKeys"]),
        )
    console.print(table)


@key_app.command("create")
def key_create(
    account: Annotated[int, typer.Option("--account", help="Account id.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create another consumer key for an account (the secret is shown once)."""
    settings = _migrated_settings()
    box = _secret_box(settings)
    issued = _in_transaction(settings, lambda s: accounts_service.create_key(s, box, account))
    _show_credential(issued, as_json)


@key_app.command("revoke")
def key_revoke(consumer_key: Annotated[str, typer.Argument(help="The consumer key.")]) -> None:
    """Revoke a consumer key: refused from the next request on."""
    settings = _migrated_settings()
    revoked = _in_transaction(settings, lambda s: accounts_service.revoke_key(s, consumer_key))
    if not revoked:
        errors.print("[red]No active key with that name.[/red]")
        raise typer.Exit(1)
    console.print(f"revoked {consumer_key}")


AccountOption = Annotated[int, typer.Option("--account", help="Account id.")]
EntryOption = Annotated[
    list[str] | None,
    typer.Option(
        "--entry", "-e", help="A set's entry as BIT=Description, e.g. 1=Newsletter; repeatable."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _entries(given: list[str] | None) -> list[SetEntryIn] | None:
    """BIT=Description options as set entries, in the order given."""
    if given is None:
        return None
    entries = []
    for item in given:
        bit, separator, description = item.partition("=")
        if not separator or not bit.strip().isdigit():
            errors.print(f"[red]--entry {item!r}: write it as BIT=Description[/red]")
            raise typer.Exit(2)
        entries.append(SetEntryIn(bit=int(bit), description=description.strip()))
    return entries


def _property_work(account: int, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Runs `work` for an existing account, in one transaction."""
    settings = _migrated_settings()

    async def checked(session: AsyncSession) -> T:
        await accounts_service.require_account(session, account)
        return await work(session)

    return _in_transaction(settings, checked)


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
def property_list(account: AccountOption, as_json: JsonOption = False) -> None:
    """List the contact properties of an account: the standard ones, then its own."""
    items = _property_work(account, lambda s: contact_definitions.list_properties(s, account))
    _show_properties(items, as_json)


@property_app.command("add")
def property_add(
    account: AccountOption,
    name: Annotated[str, typer.Argument(help="1 to 64 letters, digits or _.")],
    kind: Annotated[str, typer.Option("--type", help=f"One of {', '.join(PROPERTY_TYPES)}.")],
    description: Annotated[str | None, typer.Option(help="Default: the name.")] = None,
    entry: EntryOption = None,
    as_json: JsonOption = False,
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
def property_update(
    account: AccountOption,
    name: Annotated[str, typer.Argument(help="The property's name.")],
    description: Annotated[str | None, typer.Option(help="Its new description.")] = None,
    entry: EntryOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a property's description or a set's entries (all of them: a bit left out is
    removed from every contact)."""
    body = PropertyUpdate(description=description, entries=_entries(entry))
    changed = _property_work(
        account, lambda s: contact_definitions.update_property(s, account, name, body)
    )
    _show_properties([changed], as_json)


@property_app.command("remove")
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
