"""``vox admin …``: accounts, API keys and inventory, straight against the database."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Column, Table

from voxnumbers.accounts import service as accounts
from voxnumbers.accounts.schemas import Account, ApiKey, IssuedKey
from voxnumbers.cli.inventory import inventory_app
from voxnumbers.cli.numbers import numbers_app
from voxnumbers.cli.runtime import out, run_with_database
from voxnumbers.kit.clock import iso_z
from voxnumbers.kit.db import Database

admin_app = typer.Typer(no_args_is_help=True)
accounts_app = typer.Typer(no_args_is_help=True, help="Create and list accounts.")
keys_app = typer.Typer(no_args_is_help=True, help="Issue, list and revoke API keys.")
admin_app.add_typer(accounts_app, name="accounts")
admin_app.add_typer(keys_app, name="keys")
admin_app.add_typer(inventory_app, name="inventory")
admin_app.add_typer(numbers_app, name="numbers")


@accounts_app.command("create")
def create_account(name: Annotated[str, typer.Option(help="Display name of the account.")]) -> None:
    """Create an account and print its id."""

    async def _create(database: Database) -> Account:
        async with database.transaction() as conn:
            return await accounts.create_account(conn, name)

    out.print(run_with_database(_create).id, highlight=False)


@accounts_app.command("list")
def list_accounts() -> None:
    """List every account."""

    async def _list(database: Database) -> list[Account]:
        async with database.transaction(write=False) as conn:
            return await accounts.list_accounts(conn)

    table = Table("id", "name", "status", "created_at")
    for account in run_with_database(_list):
        table.add_row(account.id, account.name, account.status, iso_z(account.created_at))
    out.print(table)


@keys_app.command("create")
def create_key(
    account: Annotated[str, typer.Option(help="Account id (acc_…).")],
    test: Annotated[bool, typer.Option("--test", help="Issue a tvx_sk_test_ key.")] = False,
) -> None:
    """Issue a key and print it. It is shown this once and stored only as a hash."""

    async def _issue(database: Database) -> IssuedKey:
        async with database.transaction() as conn:
            return await accounts.issue_key(conn, account, test=test)

    issued = run_with_database(_issue)
    out.print(issued.secret, highlight=False, soft_wrap=True)
    out.print(
        f"[dim]key id {issued.key.id}; store the key now, it cannot be shown again[/dim]",
        highlight=False,
    )


@keys_app.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument(help="Key id (key_…).")]) -> None:
    """Revoke a key: requests using it are refused from now on."""

    async def _revoke(database: Database) -> ApiKey:
        async with database.transaction() as conn:
            return await accounts.revoke_key(conn, key_id)

    key = run_with_database(_revoke)
    out.print(f"revoked {key.id} ({key.hint})", highlight=False)


@keys_app.command("list")
def list_keys(account: Annotated[str, typer.Option(help="Account id (acc_…).")]) -> None:
    """List an account's keys (hints only; secrets are never stored)."""

    async def _list(database: Database) -> list[ApiKey]:
        async with database.transaction(write=False) as conn:
            return await accounts.list_keys(conn, account)

    # `keys revoke` takes the id: never cut it short; the other columns give way.
    table = Table(
        Column("id", no_wrap=True, min_width=20),
        "key",
        "mode",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    for key in run_with_database(_list):
        table.add_row(
            key.id,
            key.hint,
            key.mode,
            iso_z(key.created_at),
            iso_z(key.last_used_at) if key.last_used_at else "-",
            iso_z(key.revoked_at) if key.revoked_at else "-",
        )
    out.print(table)
