"""A local stand-in for every destination the demo's syncs and sends use.

Per destination kind, one function starts the stand-in and says how to reach it: environment
variables (credentials are demo values, set for the demo process only, never written to a file)
and connector settings that point the real client at loopback (`base_url`, the export folder).
The clients, the runner and the logs are the production ones; only the far end is local:

- smtp: an aiosmtpd relay with AUTH that files mail in a Maildir under the home;
- webhook: the signature-checking receiver of `activations/testing.py`;
- meta, google_ads, hubspot, salesforce, sendgrid, twilio: the vendor stand-ins of
  `activations/standins/`, which validate every request against the vendor's contract;
- postgres: the local server at the configured address, in a database of the home's own (named
  from the configured one and the home), role and database created if missing (skipped, with
  the reason, when no server is running);
- files: the export folder under the home.

A destination whose kind has no stand-in here is reported as skipped, its rows untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from activations.destinations_file import ResolvedDestination
from activations.sync_files import LoadedSync, SyncProject


@dataclass
class Prepared:
    env: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    """Connector settings replaced for the demo (where the stand-in listens)."""
    note: str = ""
    mail: Any = None
    """The Maildir relay, when this destination is one."""


@dataclass
class LocalDestinations:
    """How to reach each destination locally, or why it cannot be reached."""

    destinations: dict[str, ResolvedDestination]
    env: dict[str, str]
    unavailable: dict[str, str]
    notes: list[str]
    mail: Any = None

    def sync(self, loaded: LoadedSync) -> LoadedSync:
        assert loaded.spec is not None
        return replace(loaded, destination=self.destinations[loaded.spec.destination])


Starter = Callable[[ExitStack, Path, ResolvedDestination, list[LoadedSync]], Prepared]


def demo_value(destination: str, variable: str) -> str:
    return f"demo-{destination}-{variable.lower().replace('_', '-')}"


def _env(target: ResolvedDestination) -> dict[str, str]:
    """A demo value for every variable the config names; starters replace addresses."""
    assert target.config is not None
    return {name: demo_value(target.name, name) for name in target.config.env_names().values()}


def _smtp(stack: ExitStack, home: Path, target: ResolvedDestination, _: list) -> Prepared:
    from activations.demo.mail import MaildirRelay

    config, env = target.config, _env(target)
    username = env.get(config.username_env or "", "demo")
    password = env.get(config.password_env or "", "demo-password")
    relay = MaildirRelay(home / "demo" / "mail", username, password)
    stack.callback(relay.close)
    env[config.host_env] = "127.0.0.1"
    if config.port_env:
        env[config.port_env] = str(relay.port)
    settings = {"starttls": False, "implicit_tls": False}
    note = f"{target.name} -> {relay.folder} (Maildir; SMTP with AUTH, no TLS on loopback)"
    return Prepared(env, settings, note, relay)


def _webhook(stack: ExitStack, home: Path, target: ResolvedDestination, _: list) -> Prepared:
    from activations.testing import WebhookReceiver

    env = _env(target)
    receiver = WebhookReceiver(env[target.config.signing_secret_env])
    stack.callback(receiver.close)
    env[target.config.url_env] = receiver.url
    return Prepared(env, {}, f"{target.name} -> loopback receiver checking signatures")


def _settings(syncs: list[LoadedSync], name: str) -> set[str]:
    return {getattr(s.settings, name) for s in syncs if getattr(s.settings, name, None)}


def _meta(stack: ExitStack, home: Path, target: ResolvedDestination, syncs: list) -> Prepared:
    from activations.standins.meta import MetaStandIn

    env = _env(target)
    audiences = _settings(syncs, "audience_id") | set(target.config.audiences.values())
    server = MetaStandIn(env[target.config.access_token_env], sorted(audiences))
    stack.callback(server.close)
    return Prepared(env, {"base_url": server.url}, f"{target.name} -> Graph API stand-in")


def _google_ads(stack: ExitStack, home: Path, target: ResolvedDestination, syncs: list) -> Prepared:
    from activations.standins.google_ads import GoogleAdsStandIn

    config, env = target.config, _env(target)
    server = GoogleAdsStandIn(
        developer_token=env[config.developer_token_env],
        client_id=env[config.client_id_env],
        client_secret=env[config.client_secret_env],
        refresh_token=env[config.refresh_token_env],
        customer_id=config.customer_id,
        user_lists=sorted(_settings(syncs, "user_list_id")) or ["1"],
        login_customer_id=config.login_customer_id,
    )
    stack.callback(server.close)
    settings = {"base_url": server.url, "token_url": f"{server.url}/token"}
    return Prepared(env, settings, f"{target.name} -> Google Ads API stand-in")


def _hubspot(stack: ExitStack, home: Path, target: ResolvedDestination, syncs: list) -> Prepared:
    from activations.standins.hubspot import HubSpotStandIn

    env = _env(target)
    unique = {"email", "waymark_id"} | _settings(syncs, "id_property")
    server = HubSpotStandIn(env[target.config.access_token_env], sorted(unique))
    stack.callback(server.close)
    return Prepared(env, {"base_url": server.url}, f"{target.name} -> HubSpot CRM stand-in")


def _salesforce(stack: ExitStack, home: Path, target: ResolvedDestination, _: list) -> Prepared:
    from activations.standins.salesforce import SalesforceStandIn

    config, env = target.config, _env(target)
    server = SalesforceStandIn(
        client_id=env[config.client_id_env],
        client_secret=env[config.client_secret_env],
        refresh_token=env[config.refresh_token_env],
    )
    stack.callback(server.close)
    return Prepared(env, {"login_url": server.url}, f"{target.name} -> Salesforce org stand-in")


def _sendgrid(stack: ExitStack, home: Path, target: ResolvedDestination, _: list) -> Prepared:
    from email.utils import parseaddr

    from activations.standins.sendgrid import SendgridStandIn

    config, env = target.config, _env(target)
    sender = parseaddr(config.from_address)[1]
    server = SendgridStandIn(api_key=env[config.api_key_env], verified_senders={sender})
    stack.callback(server.close)
    return Prepared(env, {"base_url": server.url}, f"{target.name} -> Mail Send stand-in")


def _twilio(stack: ExitStack, home: Path, target: ResolvedDestination, _: list) -> Prepared:
    from activations.standins.twilio import TwilioStandIn

    config, env = target.config, _env(target)
    # Twilio checks the shape of account SIDs and sender numbers, so demo values must fit it.
    env[config.account_sid_env] = "AC" + "d" * 32
    sender = "+15005550006"
    if config.from_number_env:
        env[config.from_number_env] = sender
    server = TwilioStandIn(
        account_sid=env[config.account_sid_env],
        auth_token=env[config.auth_token_env],
        numbers={sender},
        messaging_services={env[config.messaging_service_sid_env]}
        if config.messaging_service_sid_env
        else None,
    )
    stack.callback(server.close)
    return Prepared(env, {"base_url": server.url}, f"{target.name} -> Messages API stand-in")


def _postgres(stack: ExitStack, home: Path, target: ResolvedDestination, _: list) -> Prepared:
    from activations.demo.postgres import home_database_name, prepare_local_database

    # A database of this home's own: every checkout on the machine shares the server.
    dbname = home_database_name(target.config.dbname, home)
    config = target.config.model_copy(update={"dbname": dbname})
    problem = prepare_local_database(config)
    if problem:
        raise _Unavailable(problem)
    where = f"{config.user}@{config.host}:{config.port}/{dbname}"
    return Prepared(_env(target), {"dbname": dbname}, f"{target.name} -> PostgreSQL {where}")


def _files(stack: ExitStack, home: Path, target: ResolvedDestination, _: list) -> Prepared:
    root = home / "exports"
    return Prepared({}, {"root": str(root)}, f"{target.name} -> {root}")


STARTERS: dict[str, Starter] = {
    "smtp": _smtp,
    "webhook": _webhook,
    "meta": _meta,
    "google_ads": _google_ads,
    "hubspot": _hubspot,
    "salesforce": _salesforce,
    "sendgrid": _sendgrid,
    "twilio": _twilio,
    "postgres": _postgres,
    "files": _files,
}


class _Unavailable(Exception):
    """The stand-in cannot be used here (no local PostgreSQL); the message says why."""


@contextmanager
def local_destinations(
    project: SyncProject, home: Path, wanted: set[str]
) -> Iterator[LocalDestinations]:
    """Start a stand-in for each destination in `wanted`; everything stops on exit."""
    with ExitStack() as stack:
        local = LocalDestinations(dict(project.destinations), {}, {}, [])
        for name in sorted(wanted):
            target = project.destinations.get(name)
            starter = STARTERS.get(target.kind) if target else None
            if target is None or target.config is None or starter is None:
                kind = target.kind if target else "unknown"
                local.unavailable[name] = f"no local stand-in for {kind} destinations"
                continue
            syncs = [s for s in project.syncs if s.spec and s.spec.destination == name]
            try:
                prepared = starter(stack, home, target, syncs)
            except _Unavailable as error:
                local.unavailable[name] = str(error)
                continue
            local.mail = prepared.mail or local.mail
            config = target.config.model_copy(update=prepared.config)
            local.destinations[name] = replace(target, config=config)
            local.env |= prepared.env
            local.notes.append(prepared.note)
        yield local
