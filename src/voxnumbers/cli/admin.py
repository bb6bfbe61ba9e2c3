"""``vox admin …``: accounts, API keys and inventory, straight against the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncConnection

from voxnumbers.accounts import service as accounts
from voxnumbers.admin import service as admin
from voxnumbers.cli.inventory import inventory_app
from voxnumbers.cli.numbers import numbers_app
from voxnumbers.cli.records import in_transaction, print_record, print_records
from voxnumbers.cli.runtime import as_row, out
from voxnumbers_client.cli._output import OutputFormat, OutputOption, print_row

admin_app = typer.Typer(no_args_is_help=True)
accounts_app = typer.Typer(no_args_is_help=True, help="Create and list accounts.")
keys_app = typer.Typer(no_args_is_help=True, help="Issue, list and revoke API keys.")
admin_app.add_typer(accounts_app, name="accounts")
admin_app.add_typer(keys_app, name="keys")
admin_app.add_typer(inventory_app, name="inventory")
admin_app.add_typer(numbers_app, name="numbers")
tokens_app = typer.Typer(
    no_args_is_help=True, help="Issue, list and revoke operator tokens of the admin API."
)
admin_app.add_typer(tokens_app, name="operator-tokens")


ACCOUNT_COLUMNS = ("id", "name", "status", "created_at")
TOKEN_COLUMNS = ("id", "name", "hint", "created_at", "revoked_at", "last_used_at")
KEY_COLUMNS = ("id", "account_id", "hint", "mode", "created_at", "revoked_at", "last_used_at")


def _revoke_command(
    app: typer.Typer,
    revoke: Callable[[AsyncConnection, str], Awaitable[Any]],
    *,
    argument: str,
    argument_help: str,
    command_help: str,
) -> None:
    """Add ``revoke`` to ``app`` (API keys, operator tokens): the credential whose id is the
    command's ``argument`` revoked, then printed as a line with its hint, or whole with
    ``--output``."""

    def command(
        credential_id: str = typer.Argument(metavar=argument, help=argument_help),
        output: OutputOption = None,
    ) -> None:
        credential = in_transaction(lambda conn: revoke(conn, credential_id))
        print_record(credential, output, f"revoked {credential.id} ({credential.hint})")

    app.command("revoke", help=command_help)(command)


@accounts_app.command("create")
def create_account(
    name: Annotated[str, typer.Option(help="Display name of the account.")],
    output: OutputOption = None,
) -> None:
    """Create an account and print its id (with --output, the whole account)."""
    account = in_transaction(lambda conn: accounts.create_account(conn, name))
    print_record(account, output, account.id)


@accounts_app.command("list")
def list_accounts(output: OutputOption = None) -> None:
    """List every account."""
    accounts_listed = in_transaction(accounts.list_accounts, write=False)
    print_records(accounts_listed, ACCOUNT_COLUMNS, output)


@keys_app.command("create")
def create_key(
    account: Annotated[str, typer.Option(help="Account id (acc_…).")],
    test: Annotated[bool, typer.Option("--test", help="Issue a tvx_sk_test_ key.")] = False,
    output: OutputOption = None,
) -> None:
    """Issue a key and print it (with --output, the key's record and its secret). It is
    shown this once and stored only as a hash."""
    issued = in_transaction(lambda conn: accounts.issue_key(conn, account, test=test))
    note = f"key id {issued.key.id}; store the key now"
    _print_issued(issued.key, "secret", issued.secret, output, note)


_revoke_command(
    keys_app,
    accounts.revoke_key,
    argument="key_id",
    argument_help="Key id (key_…).",
    command_help="Revoke a key: requests using it are refused from now on.",
)


@keys_app.command("list")
def list_keys(
    account: Annotated[str, typer.Option(help="Account id (acc_…).")],
    output: OutputOption = None,
) -> None:
    """List an account's keys (hints only; secrets are never stored)."""
    keys = in_transaction(lambda conn: accounts.list_keys(conn, account), write=False)
    print_records(keys, KEY_COLUMNS, output)


@tokens_app.command("create")
def create_operator_token(
    name: Annotated[str, typer.Option(help="Who or what the token is for.")],
    output: OutputOption = None,
) -> None:
    """Issue an operator token (tvx_op_…) for the admin API and print it (with --output,
    its record and the token). It is shown this once and stored only as a hash."""
    issued = in_transaction(lambda conn: admin.create_operator_token(conn, name))
    note = f"token id {issued.token.id}; store the token now"
    _print_issued(issued.token, "token", issued.secret, output, note)


@tokens_app.command("list")
def list_operator_tokens(output: OutputOption = None) -> None:
    """List operator tokens (hints only; tokens are never stored)."""
    tokens = in_transaction(admin.list_operator_tokens, write=False)
    print_records(tokens, TOKEN_COLUMNS, output)


_revoke_command(
    tokens_app,
    admin.revoke_operator_token,
    argument="token_id",
    argument_help="Token id (opt_…).",
    command_help="Revoke an operator token: the admin API refuses it from now on.",
)


def _print_issued(
    record: Any, secret_field: str, secret: str, output: OutputFormat | None, note: str
) -> None:
    """A secret shown this once: for a person, alone and then ``note`` (dimmed); with
    ``--output``, the record it belongs to with the secret as ``secret_field``."""
    if output is not None:
        print_row({**as_row(record), secret_field: secret}, output)
        return
    out.print(secret, highlight=False, soft_wrap=True)
    out.print(f"[dim]{note}, it cannot be shown again[/dim]", highlight=False)
