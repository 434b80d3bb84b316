"""`audiences import members|contacts FILE`: a file streamed through the API's import calls
(`POST /audience/{id}/contact/import`, `PUT /audience/{id}/contact`, `POST /contact/import`)
at constant memory, with a progress bar (bytes and rows, their rates, the time left) on
stderr, and the server's report at the end. It talks to a running service, as any client."""

import json
import sys
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, BinaryIO
from urllib.parse import quote

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from audiences.cli_support import console, fail

import_app = typer.Typer(
    help="Stream a file into the API's import calls, with a progress bar.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
CHUNK = 1024 * 1024
DEFAULT_URL = "http://127.0.0.1:8000/integrationservice"
progress_console = Console(stderr=True)


class Format(StrEnum):
    plain = "plain"
    csv = "csv"
    ndjson = "ndjson"


class Unknown(StrEnum):
    reject = "reject"
    skip = "skip"


class OnError(StrEnum):
    skip = "skip"
    reject = "reject"


CONTENT_TYPES = {
    Format.plain: "text/plain",
    Format.csv: "text/csv",
    Format.ndjson: "application/x-ndjson",
}
FileArgument = Annotated[
    Path,
    typer.Argument(
        help="The file to upload, or - for standard input.", allow_dash=True, show_default=False
    ),
]
FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format", help="plain (one id a line), csv or ndjson; default: from the file's suffix."
    ),
]
UrlOption = Annotated[
    str,
    typer.Option(
        "--url", envvar="AUDIENCES_API_URL", help="The API's base URL (AUDIENCES_API_URL)."
    ),
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key",
        envvar="AUDIENCES_API_KEY",
        help="Consumer key (AUDIENCES_API_KEY).",
        show_default=False,
    ),
]
SecretOption = Annotated[
    str | None,
    typer.Option(
        "--secret",
        envvar="AUDIENCES_API_SECRET",
        help="Consumer secret (AUDIENCES_API_SECRET).",
        show_default=False,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the server's report as JSON.")]


class RowsColumn(ProgressColumn):
    """Rows sent so far and rows a second."""

    def render(self, task: Task) -> Text:
        rows = int(task.fields.get("rows", 0))
        elapsed = task.finished_time if task.finished else task.elapsed
        rate = f" ({rows / elapsed:,.0f}/s)" if elapsed else ""
        return Text(f"{rows:,} rows{rate}", style="progress.data.speed")


def _format_of(path: Path, given: Format | None, default: Format) -> Format:
    if given is not None:
        return given
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return Format.csv
    if suffix in (".ndjson", ".jsonl"):
        return Format.ndjson
    if suffix in (".txt", ".ids"):
        return Format.plain
    return default


def _open(path: Path) -> tuple[BinaryIO, int | None]:
    if str(path) == "-":
        return sys.stdin.buffer, None
    try:
        handle = path.open("rb")
    except OSError as exc:
        fail(f"Cannot read {path}: {exc.strerror}", code=2)
    return handle, path.stat().st_size


def _chunks(
    handle: BinaryIO, progress: Progress, task: TaskID, header_rows: int
) -> Iterator[bytes]:
    """The file in chunks, counting rows (lines, less a CSV header) as they go."""
    lines = 0
    last = b"\n"
    with handle:
        while chunk := handle.read(CHUNK):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            rows = lines + (last != b"\n") - header_rows
            progress.update(task, advance=len(chunk), rows=max(rows, 0))
            yield chunk
    progress.update(task, description="applying")


def _answer(response: httpx.Response) -> Any:
    """The JSON answered; a refusal (the vendor's error envelope) ends the command."""
    try:
        answer = response.json()
    except ValueError:
        answer = {"errorType": f"HTTP {response.status_code}", "message": response.text[:300]}
    if response.status_code >= 300:
        _refused(answer)
    return answer


def upload(
    method: str,
    url: str,
    params: dict[str, str],
    path: Path,
    content_type: str,
    credential: tuple[str | None, str | None],
    header_rows: int,
    check: str,
) -> Any:
    """Streams the file to the API and answers the report; a refusal ends the command. The
    `check` URL is read first, so that a wrong credential or an unknown audience is said at
    once, not after the whole file was sent."""
    key, secret = credential
    if not key or not secret:
        fail(
            "The API credential is needed: --key and --secret "
            "(or AUDIENCES_API_KEY and AUDIENCES_API_SECRET).",
            code=2,
        )
    handle, size = _open(path)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        DownloadColumn(),
        TransferSpeedColumn(),
        RowsColumn(),
        TimeRemainingColumn(),
    )
    # No read timeout: after the last byte the server applies the whole file in one
    # transaction, which takes a while for millions of rows.
    with httpx.Client(auth=(key, secret), timeout=httpx.Timeout(30.0, read=None)) as client:
        try:
            _answer(client.get(check))
            started = time.monotonic()
            with Progress(*columns, console=progress_console) as progress:
                task = progress.add_task("sending", total=size, rows=0)
                response = client.request(
                    method,
                    url,
                    params=params,
                    content=_chunks(handle, progress, task, header_rows),
                    headers={"content-type": content_type},
                )
                progress.update(task, description="done")
        except httpx.HTTPError as exc:
            fail(f"Cannot reach {url}: {exc}. Is `audiences serve` running there (--url)?")
    report = _answer(response)
    progress_console.print(f"Done in {time.monotonic() - started:.1f} s.", style="dim")
    return report


def _refused(report: dict[str, Any]) -> None:
    message = f"{report.get('errorType', 'ERROR')}: {report.get('message', '')}"
    details = {k: v for k, v in report.items() if k not in ("errorType", "message")}
    if details:
        message += " " + json.dumps(details)
    fail(message)


def _print_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report))
        return
    for name, value in report.items():
        if isinstance(value, int) and not isinstance(value, bool):
            console.print(f"{name:>14}: {value:,}")
        elif not isinstance(value, list):
            console.print(f"{name:>14}: {value}")
    sample = report.get("unknownSample") or []
    if sample:
        console.print(f"{'unknown ids':>14}: {', '.join(sample[:20])}")
    problems = report.get("errors") or []
    if problems:
        table = Table("line", "externalId", "code", "message", title="Lines not imported")
        for problem in problems[:20]:
            table.add_row(
                str(problem.get("line")),
                str(problem.get("externalId") or ""),
                str(problem.get("code")),
                str(problem.get("message")),
            )
        console.print(table)


@import_app.command("members")
def import_members(
    file: FileArgument,
    audience: Annotated[str, typer.Option("--audience", help="The audience's externalId.")],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="The members become exactly the file's (PUT): others are removed."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --replace: report, change nothing.")
    ] = False,
    unknown: Annotated[
        Unknown,
        typer.Option("--unknown", help="reject: an unknown id changes nothing; skip: report them."),
    ] = Unknown.reject,
    format: FormatOption = None,
    url: UrlOption = DEFAULT_URL,
    key: KeyOption = None,
    secret: SecretOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add the contacts a file lists to an audience (or with --replace, make them its
    members), in one transaction."""
    if dry_run and not replace:
        fail("--dry-run goes with --replace.", code=2)
    kind = _format_of(file, format, Format.plain)
    params = {"unknown": unknown.value}
    if replace:
        params["dryRun"] = "true" if dry_run else "false"
    audience_url = f"{url.rstrip('/')}/audience/{quote(audience, safe='')}"
    report = upload(
        "PUT" if replace else "POST",
        f"{audience_url}/contact" if replace else f"{audience_url}/contact/import",
        params,
        file,
        CONTENT_TYPES[kind],
        (key, secret),
        header_rows=1 if kind is Format.csv else 0,
        check=audience_url,
    )
    _print_report(report, as_json)


@import_app.command("contacts")
def import_contacts(
    file: FileArgument,
    on_error: Annotated[
        OnError,
        typer.Option(
            "--on-error",
            help="skip: import the valid lines, report the others; reject: all or none.",
        ),
    ] = OnError.skip,
    purge: Annotated[
        bool, typer.Option("--purge", help="Remove existing properties the file does not give.")
    ] = False,
    format: FormatOption = None,
    url: UrlOption = DEFAULT_URL,
    key: KeyOption = None,
    secret: SecretOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Create or update the contacts of a CSV or NDJSON file, in one transaction."""
    kind = _format_of(file, format, Format.ndjson)
    if kind is Format.plain:
        fail("Contacts come as csv or ndjson.", code=2)
    report = upload(
        "POST",
        f"{url.rstrip('/')}/contact/import",
        {"onError": on_error.value, "purge": "true" if purge else "false"},
        file,
        CONTENT_TYPES[kind],
        (key, secret),
        header_rows=1 if kind is Format.csv else 0,
        check=f"{url.rstrip('/')}/ping",
    )
    _print_report(report, as_json)
