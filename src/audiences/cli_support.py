"""What the `audiences` command needs around the database: it says which database it uses,
creates one (the embedded PostgreSQL) or changes its schema only when asked to, and answers
a problem with one line instead of a traceback."""

import asyncio
import functools
import json
import os
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, ParamSpec, TypeVar

import psycopg
import typer
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from audiences.accounts.service import IssuedCredential
from audiences.core import migrate
from audiences.core.credentials import SecretBox
from audiences.core.db import create_engine, create_sessionmaker
from audiences.core.embedded import embedded_secret_key, start_embedded
from audiences.core.errors import DomainError
from audiences.core.settings import Settings, secret_key_problem

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True, highlight=False)
P = ParamSpec("P")
T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, then exit."""
    errors.print(f"[red]{message}[/red]")
    raise typer.Exit(code)


def shown_url(url: str) -> str:
    """The URL without its password, to say which database is used."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def resolved_settings(*, create: bool) -> tuple[Settings, bool]:
    """Settings from the environment, with the embedded database (and its server key) filled
    in when no database URL is given (then True). The embedded database is made only when
    `create`; exported, so server workers see the same settings."""
    settings = Settings()
    embedded = settings.embedded
    if embedded:
        if not create and not (settings.data_dir / "pgdata").exists():
            fail(
                f"No database yet: AUDIENCES_DATABASE_URL is not set and there is no embedded "
                f"database in {settings.data_dir}. Set AUDIENCES_DATABASE_URL, or create the "
                "embedded one with `audiences db upgrade` (or `audiences serve`)."
            )
        url = start_embedded(settings.data_dir)
        settings = settings.model_copy(update={"database_url": url})
        os.environ["AUDIENCES_DATABASE_URL"] = url
        if not settings.secret_key:
            key = embedded_secret_key(settings.data_dir)
            settings = settings.model_copy(update={"secret_key": key})
            os.environ["AUDIENCES_SECRET_KEY"] = key
    return settings, embedded


def describe_database(settings: Settings, embedded: bool) -> str:
    assert settings.database_url
    where = shown_url(settings.database_url)
    return f"embedded PostgreSQL in {settings.data_dir} ({where})" if embedded else where


def admin_settings() -> Settings:
    """The database of an admin command, said on stderr (stdout stays for the answer, JSON
    included); its schema must be at the newest migration, and is never changed here."""
    settings, embedded = resolved_settings(create=False)
    errors.print(f"Database: {describe_database(settings, embedded)}")
    assert settings.database_url
    problem = migrate.schema_problem(settings.database_url)
    if problem:
        fail(problem)
    return settings


def secret_box(settings: Settings) -> SecretBox:
    """The box of the configured server key; a missing, short or published key is refused
    before anything starts."""
    problem = secret_key_problem(settings.secret_key)
    if problem:
        fail(problem, code=2)
    assert settings.secret_key
    return SecretBox(settings.secret_key)


def in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Runs `work` in one transaction; a refusal is one line and exit code 1."""

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
        fail(error.message)


def database_problem(exc: BaseException) -> str | None:
    """One line for an error that means the database cannot be used (or None)."""
    if isinstance(exc, ArgumentError):
        return f"AUDIENCES_DATABASE_URL is not a database URL: {exc}"
    origin: Any = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(origin, psycopg.Error):
        first = (str(origin).strip().splitlines() or [type(origin).__name__])[0]
        return f"Cannot use the database: {first}"
    return None


def one_line_errors(command: Callable[P, T]) -> Callable[P, T]:
    """A command whose database problems (a bad URL, a server that does not answer, a wrong
    password) end it with one line on stderr and exit code 1, not a traceback."""

    @functools.wraps(command)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except (ArgumentError, DBAPIError, psycopg.Error) as exc:
            problem = database_problem(exc)
            if problem is None:
                raise
            fail(problem)

    return guarded


def show_credential(issued: IssuedCredential, as_json: bool) -> None:
    """An issued credential, as JSON or for a person (the secret is shown only now)."""
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
