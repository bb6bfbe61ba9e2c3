"""``vox trunks …``: SIP trunks, their credentials and their IP ACLs."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from voxnumbers_client._models import IpAclEntry, Trunk, TrunkCredential
from voxnumbers_client._params import PageParams
from voxnumbers_client.cli._options import (
    AllOption,
    ForceOption,
    LimitOption,
    YesOption,
    api_options,
    confirm,
    given,
    walking,
)
from voxnumbers_client.cli._output import OutputOption, print_item, print_page
from voxnumbers_client.cli._state import client_of

app = typer.Typer(help="SIP trunks.", no_args_is_help=True)
credentials_app = typer.Typer(
    help="Usernames that may authenticate on a trunk.", no_args_is_help=True
)
ip_acl_app = typer.Typer(help="Address ranges allowed on a trunk.", no_args_is_help=True)
app.add_typer(credentials_app, name="credentials")
app.add_typer(ip_acl_app, name="ip-acl")


class AuthType(StrEnum):
    """How callers authenticate on a trunk."""

    ip = "ip"
    credential = "credential"


TrunkIdArgument = Annotated[str, typer.Argument(help="The trunk's id (trunk_…).")]
NameOption = Annotated[str, typer.Option("--name", help="A name to recognise it by.")]
AuthTypeOption = Annotated[
    AuthType, typer.Option("--auth-type", help="ip (IP ACL) or credential (username/password).")
]
TerminationUriOption = Annotated[
    str | None, typer.Option("--termination-uri", help="Where calls are sent (a sip: URI).")
]
OriginationUriOption = Annotated[
    list[str] | None,
    typer.Option("--origination-uri", help="A sip: URI calls come from; repeatable."),
]
MaxChannelsOption = Annotated[
    int | None,
    typer.Option("--max-channels", min=0, help="Concurrent calls allowed (0 = unlimited)."),
]


@app.command("list")
@api_options(PageParams)
def list_trunks(
    ctx: typer.Context,
    params: dict[str, Any],
    all_pages: AllOption = False,
    limit: LimitOption = None,
    output: OutputOption = None,
) -> None:
    """List the account's trunks."""
    result = client_of(ctx).trunks.list(**walking(params, all_pages, limit))
    print_page(result, Trunk, output, all_pages=all_pages, noun="trunks", limit=limit)


@app.command("get")
def get_trunk(ctx: typer.Context, trunk_id: TrunkIdArgument, output: OutputOption = None) -> None:
    """Show one trunk."""
    print_item(client_of(ctx).trunks.get(trunk_id), output)


@app.command("create")
def create_trunk(
    ctx: typer.Context,
    name: NameOption,
    auth_type: AuthTypeOption,
    termination_uri: TerminationUriOption = None,
    origination_uri: OriginationUriOption = None,
    max_channels: MaxChannelsOption = None,
    output: OutputOption = None,
) -> None:
    """Create a trunk."""
    fields = given(
        termination_uri=termination_uri, origination_uris=origination_uri, max_channels=max_channels
    )
    print_item(client_of(ctx).trunks.create(name, auth_type.value, **fields), output)


@app.command("update")
def update_trunk(
    ctx: typer.Context,
    trunk_id: TrunkIdArgument,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    auth_type: Annotated[
        AuthType | None, typer.Option("--auth-type", help="ip or credential.")
    ] = None,
    termination_uri: TerminationUriOption = None,
    clear_termination_uri: Annotated[
        bool, typer.Option("--clear-termination-uri", help="Remove the termination URI.")
    ] = False,
    origination_uri: Annotated[
        list[str] | None,
        typer.Option("--origination-uri", help="Replace the origination URIs; repeatable."),
    ] = None,
    clear_origination_uris: Annotated[
        bool, typer.Option("--clear-origination-uris", help="Remove every origination URI.")
    ] = False,
    max_channels: MaxChannelsOption = None,
    output: OutputOption = None,
) -> None:
    """Change only the options given; the others keep their values (read, then written
    back with If-Match, so a change made meanwhile is never overwritten)."""
    if clear_termination_uri and termination_uri is not None:
        raise typer.BadParameter("Give --termination-uri or --clear-termination-uri, not both.")
    if clear_origination_uris and origination_uri:
        raise typer.BadParameter("Give --origination-uri or --clear-origination-uris, not both.")
    changes: dict[str, Any] = given(
        name=name,
        auth_type=auth_type.value if auth_type else None,
        termination_uri=termination_uri,
        origination_uris=origination_uri,
        max_channels=max_channels,
    )
    if clear_termination_uri:
        changes["termination_uri"] = None
    if clear_origination_uris:
        changes["origination_uris"] = []
    if not changes:
        raise typer.BadParameter("Nothing to change: give at least one option.")
    print_item(client_of(ctx).trunks.update(trunk_id, **changes), output)


@app.command("replace")
def replace_trunk(
    ctx: typer.Context,
    trunk_id: TrunkIdArgument,
    name: NameOption,
    auth_type: AuthTypeOption,
    termination_uri: TerminationUriOption = None,
    origination_uri: OriginationUriOption = None,
    max_channels: MaxChannelsOption = None,
    output: OutputOption = None,
) -> None:
    """Replace a trunk's whole definition: options not given return to their defaults."""
    fields = given(
        termination_uri=termination_uri, origination_uris=origination_uri, max_channels=max_channels
    )
    print_item(client_of(ctx).trunks.replace(trunk_id, name, auth_type.value, **fields), output)


@app.command("delete")
def delete_trunk(
    ctx: typer.Context,
    trunk_id: TrunkIdArgument,
    force: ForceOption = False,
    yes: YesOption = False,
    output: OutputOption = None,
) -> None:
    """Delete a trunk (refused while numbers route to it, unless --force)."""
    confirm(f"Delete trunk {trunk_id}?", yes)
    print_item(client_of(ctx).trunks.delete(trunk_id, force=force), output)


# --- credentials ---------------------------------------------------------------------------


@credentials_app.command("list")
@api_options(PageParams)
def list_credentials(
    ctx: typer.Context,
    trunk_id: TrunkIdArgument,
    params: dict[str, Any],
    all_pages: AllOption = False,
    limit: LimitOption = None,
    output: OutputOption = None,
) -> None:
    """List a trunk's credentials (passwords are never shown)."""
    credentials = client_of(ctx).trunks.credentials
    result = credentials.list(trunk_id, **walking(params, all_pages, limit))
    print_page(
        result, TrunkCredential, output, all_pages=all_pages, noun="credentials", limit=limit
    )


@credentials_app.command("create")
def create_credential(
    ctx: typer.Context,
    trunk_id: TrunkIdArgument,
    username: Annotated[str, typer.Option("--username", help="The SIP username.")],
    password: Annotated[
        str | None,
        typer.Option("--password", help="12 characters or more (asked for when not given)."),
    ] = None,
    output: OutputOption = None,
) -> None:
    """Add a username/password to a trunk."""
    if password is None:  # asked on stderr, so stdout stays clean data
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    credential = client_of(ctx).trunks.credentials.create(trunk_id, username, password)
    print_item(credential, output)


@credentials_app.command("delete")
def delete_credential(
    ctx: typer.Context,
    trunk_id: TrunkIdArgument,
    credential_id: Annotated[str, typer.Argument(help="The credential's id (cred_…).")],
    yes: YesOption = False,
    output: OutputOption = None,
) -> None:
    """Remove a credential from a trunk."""
    confirm(f"Delete credential {credential_id} of {trunk_id}?", yes)
    print_item(client_of(ctx).trunks.credentials.delete(trunk_id, credential_id), output)


# --- IP ACL --------------------------------------------------------------------------------


@ip_acl_app.command("list")
@api_options(PageParams)
def list_ip_acl(
    ctx: typer.Context,
    trunk_id: TrunkIdArgument,
    params: dict[str, Any],
    all_pages: AllOption = False,
    limit: LimitOption = None,
    output: OutputOption = None,
) -> None:
    """List the address ranges allowed on a trunk."""
    result = client_of(ctx).trunks.ip_acl.list(trunk_id, **walking(params, all_pages, limit))
    print_page(result, IpAclEntry, output, all_pages=all_pages, noun="entries", limit=limit)


@ip_acl_app.command("create")
def create_ip_acl(
    ctx: typer.Context,
    trunk_id: TrunkIdArgument,
    ip: Annotated[str, typer.Option("--ip", help="An IPv4 or IPv6 address.")],
    mask: Annotated[
        int | None, typer.Option("--mask", help="Prefix length (default 32 or 128).")
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="What this range is.")
    ] = None,
    output: OutputOption = None,
) -> None:
    """Allow an address range on a trunk."""
    entry = client_of(ctx).trunks.ip_acl.create(trunk_id, ip, mask=mask, description=description)
    print_item(entry, output)


@ip_acl_app.command("delete")
def delete_ip_acl(
    ctx: typer.Context,
    trunk_id: TrunkIdArgument,
    acl_id: Annotated[str, typer.Argument(help="The entry's id (acl_…).")],
    yes: YesOption = False,
    output: OutputOption = None,
) -> None:
    """Remove an address range from a trunk."""
    confirm(f"Delete ACL entry {acl_id} of {trunk_id}?", yes)
    print_item(client_of(ctx).trunks.ip_acl.delete(trunk_id, acl_id), output)
