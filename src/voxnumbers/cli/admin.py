"""``vox admin …``: accounts, API keys and inventory, straight against the database."""

from __future__ import annotations

from typing import Annotated

import typer

from voxnumbers.accounts import service as accounts
from voxnumbers.accounts.schemas import Account, ApiKey, IssuedKey
from voxnumbers.admin import service as admin
from voxnumbers.admin.schemas import IssuedOperatorToken, OperatorToken
from voxnumbers.cli.inventory import inventory_app
from voxnumbers.cli.numbers import numbers_app
from voxnumbers.cli.runtime import as_row, out, run_with_database
from voxnumbers.db.engine import Database
from voxnumbers_client.cli._output import OutputOption, print_row, print_rows

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


@accounts_app.command("create")
def create_account(
    name: Annotated[str, typer.Option(help="Display name of the account.")],
    output: OutputOption = None,
) -> None:
    """Create an account and print its id (with --output, the whole account)."""

    async def _create(database: Database) -> Account:
        async with database.transaction() as conn:
            return await accounts.create_account(conn, name)

    account = run_with_database(_create)
    if output is None:
        out.print(account.id, highlight=False)
    else:
        print_row(as_row(account), output)


@accounts_app.command("list")
def list_accounts(output: OutputOption = None) -> None:
    """List every account."""

    async def _list(database: Database) -> list[Account]:
        async with database.transaction(write=False) as conn:
            return await accounts.list_accounts(conn)

    print_rows([as_row(a) for a in run_with_database(_list)], ACCOUNT_COLUMNS, output)


@keys_app.command("create")
def create_key(
    account: Annotated[str, typer.Option(help="Account id (acc_…).")],
    test: Annotated[bool, typer.Option("--test", help="Issue a tvx_sk_test_ key.")] = False,
    output: OutputOption = None,
) -> None:
    """Issue a key and print it (with --output, the key's record and its secret). It is
    shown this once and stored only as a hash."""

    async def _issue(database: Database) -> IssuedKey:
        async with database.transaction() as conn:
            return await accounts.issue_key(conn, account, test=test)

    issued = run_with_database(_issue)
    if output is not None:
        print_row({**as_row(issued.key), "secret": issued.secret}, output)
        return
    out.print(issued.secret, highlight=False, soft_wrap=True)
    out.print(
        f"[dim]key id {issued.key.id}; store the key now, it cannot be shown again[/dim]",
        highlight=False,
    )


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="Key id (key_…).")],
    output: OutputOption = None,
) -> None:
    """Revoke a key: requests using it are refused from now on."""

    async def _revoke(database: Database) -> ApiKey:
        async with database.transaction() as conn:
            return await accounts.revoke_key(conn, key_id)

    key = run_with_database(_revoke)
    if output is None:
        out.print(f"revoked {key.id} ({key.hint})", highlight=False)
    else:
        print_row(as_row(key), output)


@keys_app.command("list")
def list_keys(
    account: Annotated[str, typer.Option(help="Account id (acc_…).")],
    output: OutputOption = None,
) -> None:
    """List an account's keys (hints only; secrets are never stored)."""

    async def _list(database: Database) -> list[ApiKey]:
        async with database.transaction(write=False) as conn:
            return await accounts.list_keys(conn, account)

    print_rows([as_row(k) for k in run_with_database(_list)], KEY_COLUMNS, output)


@tokens_app.command("create")
def create_operator_token(
    name: Annotated[str, typer.Option(help="Who or what the token is for.")],
    output: OutputOption = None,
) -> None:
    """Issue an operator token (tvx_op_…) for the admin API and print it (with --output,
    its record and the token). It is shown this once and stored only as a hash."""

    async def _issue(database: Database) -> IssuedOperatorToken:
        async with database.transaction() as conn:
            return await admin.create_operator_token(conn, name)

    issued = run_with_database(_issue)
    if output is not None:
        print_row({**as_row(issued.token), "token": issued.secret}, output)
        return
    out.print(issued.secret, highlight=False, soft_wrap=True)
    out.print(
        f"[dim]token id {issued.token.id}; store the token now, it cannot be shown again[/dim]",
        highlight=False,
    )


@tokens_app.command("list")
def list_operator_tokens(output: OutputOption = None) -> None:
    """List operator tokens (hints only; tokens are never stored)."""

    async def _list(database: Database) -> list[OperatorToken]:
        async with database.transaction(write=False) as conn:
            return await admin.list_operator_tokens(conn)

    print_rows([as_row(t) for t in run_with_database(_list)], TOKEN_COLUMNS, output)


@tokens_app.command("revoke")
def revoke_operator_token(
    token_id: Annotated[str, typer.Argument(help="Token id (opt_…).")],
    output: OutputOption = None,
) -> None:
    """Revoke an operator token: the admin API refuses it from now on."""

    async def _revoke(database: Database) -> OperatorToken:
        async with database.transaction() as conn:
            return await admin.revoke_operator_token(conn, token_id)

    token = run_with_database(_revoke)
    if output is None:
        out.print(f"revoked {token.id} ({token.hint})", highlight=False)
    else:
        print_row(as_row(token), output)
