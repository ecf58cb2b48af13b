"""`sohoa user add` and `sohoa user token`."""

from __future__ import annotations

import click

from scanners.cli.main import main, services


@main.group()
def user() -> None:
    """Staff accounts of the web app (archivists and land officers)."""


@user.command("add")
@click.argument("login")
@click.option("--role", type=click.Choice(["archivist", "officer"]), required=True)
@click.option("--name", "display_name", default="", help="Shown in the web app.")
@click.password_option(envvar="SOHOA_USER_PASSWORD", help="Asked for when not given.")
def user_add(login: str, role: str, display_name: str, password: str) -> None:
    """Create an account."""
    from pipeline.usecases.accounts import AccountError, add_user

    try:
        add_user(services().store, login, role, password, display_name)
    except AccountError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{login}: {role}")


@user.command("token")
@click.argument("login")
@click.option("--label", default="cli", show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True)
def user_token(login: str, label: str, days: int) -> None:
    """Issue an API token (printed once; only its hash is stored)."""
    from datetime import timedelta

    from pipeline.usecases.accounts import AccountError, issue_token

    try:
        _, token = issue_token(services().store, login, label, timedelta(days=days))
    except AccountError as e:
        raise click.ClickException(str(e)) from None
    click.echo(token)


@user.command("revoke")
@click.argument("login")
def user_revoke(login: str) -> None:
    """End every session and API token of LOGIN at once."""
    from pipeline.usecases.accounts import AccountError, revoke_access
    from scanners.cli.audit import operator_principal

    svc = services()
    try:
        revoke_access(svc.store, login, operator_principal(svc), "cli")
    except AccountError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{login}: every session and token ended")


@user.command("unlock")
@click.argument("login")
def user_unlock(login: str) -> None:
    """Lift LOGIN's sign-in lockout (after too many failed sign-ins)."""
    from pipeline.usecases.accounts import AccountError, unlock_account
    from scanners.cli.audit import operator_principal

    svc = services()
    try:
        done = unlock_account(svc.store, login, operator_principal(svc), "cli")
    except AccountError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{login}: unlocked" if done else f"{login} was not locked")
