"""Single sign-on settings from the environment: OIDC and SAML through allauth's social accounts.

settings.py calls `sso_from_env()` once; it returns the extra apps and the
`SOCIALACCOUNT_PROVIDERS` mapping, or nothing when no provider is configured. Every value is
checked here so a half-configured provider stops start-up with a message naming the variable.
docs/sso.md lists the variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from defusedxml import ElementTree
from django.core.exceptions import ImproperlyConfigured

from governance.lib.env import env_str

_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
_DS = "http://www.w3.org/2000/09/xmldsig#"
_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
ROLES = ("lead", "member", "viewer")
_CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"


@dataclass(frozen=True)
class SSOConfig:
    apps: list[str] = field(default_factory=list)
    providers: dict[str, Any] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.providers)


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ImproperlyConfigured(f"{name}={value!r} is not an http(s) URL")
    return value


def _oidc_from_env() -> dict[str, Any] | None:
    issuer = env_str("OIDC_ISSUER").strip()
    client_id = env_str("OIDC_CLIENT_ID").strip()
    secret = env_str("OIDC_CLIENT_SECRET").strip()
    if not (issuer or client_id or secret):
        return None
    missing = [
        name
        for name, value in (
            ("OIDC_ISSUER", issuer),
            ("OIDC_CLIENT_ID", client_id),
            ("OIDC_CLIENT_SECRET", secret),
        )
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(f"OIDC single sign-on needs {', '.join(missing)} as well")
    _url("OIDC_ISSUER", issuer)
    provider_id = env_str("OIDC_PROVIDER_ID", "sso").strip() or "sso"
    app_settings: dict[str, Any] = {"server_url": issuer.rstrip("/")}
    auth_method = env_str("OIDC_TOKEN_AUTH_METHOD").strip()
    if auth_method:
        if auth_method not in ("client_secret_basic", "client_secret_post"):
            raise ImproperlyConfigured(
                f"OIDC_TOKEN_AUTH_METHOD={auth_method!r}: use client_secret_basic or "
                "client_secret_post"
            )
        app_settings["token_auth_method"] = auth_method
    scopes = env_str("OIDC_SCOPES").split()
    provider: dict[str, Any] = {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": provider_id,
                "name": env_str("OIDC_NAME", "Single sign-on").strip() or "Single sign-on",
                "client_id": client_id,
                "secret": secret,
                "settings": app_settings,
            }
        ],
    }
    if scopes:
        provider["SCOPE"] = scopes
    return provider


def saml_idp_from_metadata(xml: bytes | str, *, source: str) -> dict[str, str]:
    """The IdP's entity id, redirect sign-on URL and signing certificate from its metadata."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise ImproperlyConfigured(f"{source}: not XML ({exc})") from None
    descriptor = root if root.tag == f"{{{_MD}}}EntityDescriptor" else None
    if descriptor is None:
        descriptor = root.find(f".//{{{_MD}}}EntityDescriptor")
    if descriptor is None or not descriptor.get("entityID"):
        raise ImproperlyConfigured(f"{source}: no EntityDescriptor with an entityID")
    idp = descriptor.find(f"{{{_MD}}}IDPSSODescriptor")
    if idp is None:
        raise ImproperlyConfigured(f"{source}: no IDPSSODescriptor (is this an IdP's metadata?)")
    services = idp.findall(f"{{{_MD}}}SingleSignOnService")
    redirect = [s for s in services if s.get("Binding") == _REDIRECT] or services
    if not redirect or not redirect[0].get("Location"):
        raise ImproperlyConfigured(f"{source}: no SingleSignOnService location")
    cert = None
    for key in idp.findall(f"{{{_MD}}}KeyDescriptor"):
        if key.get("use") in (None, "signing"):
            cert = key.find(f".//{{{_DS}}}X509Certificate")
            if cert is not None and (cert.text or "").strip():
                break
    if cert is None or not (cert.text or "").strip():
        raise ImproperlyConfigured(f"{source}: no signing X509Certificate")
    out = {
        "entity_id": descriptor.get("entityID", ""),
        "sso_url": redirect[0].get("Location", ""),
        "x509cert": "".join((cert.text or "").split()),
    }
    slo = idp.find(f"{{{_MD}}}SingleLogoutService")
    if slo is not None and slo.get("Location"):
        out["slo_url"] = slo.get("Location", "")
    return out


def _saml_from_env() -> dict[str, Any] | None:
    metadata_url = env_str("SAML_METADATA_URL").strip()
    metadata_file = env_str("SAML_METADATA_FILE").strip()
    if not (metadata_url or metadata_file):
        if env_str("SAML_ENTITY_ID").strip():
            raise ImproperlyConfigured(
                "SAML_ENTITY_ID is set but neither SAML_METADATA_URL nor SAML_METADATA_FILE is"
            )
        return None
    if metadata_url and metadata_file:
        raise ImproperlyConfigured("set SAML_METADATA_URL or SAML_METADATA_FILE, not both")
    idp: dict[str, Any]
    if metadata_file:
        path = Path(metadata_file)
        if not path.is_file():
            raise ImproperlyConfigured(f"SAML_METADATA_FILE={metadata_file!r} is not a file")
        idp = saml_idp_from_metadata(path.read_bytes(), source=f"SAML_METADATA_FILE={path}")
    else:
        entity_id = env_str("SAML_IDP_ENTITY_ID").strip()
        if not entity_id:
            raise ImproperlyConfigured(
                "SAML_METADATA_URL needs SAML_IDP_ENTITY_ID (the IdP's entityID in that metadata)"
            )
        idp = {"metadata_url": _url("SAML_METADATA_URL", metadata_url), "entity_id": entity_id}
    sp: dict[str, str] = {}
    if entity_id := env_str("SAML_ENTITY_ID").strip():
        sp["entity_id"] = entity_id
    attr = {
        key: env_str(f"SAML_ATTR_{key.upper()}", f"{_CLAIMS}/{claim}")
        for key, claim in (
            ("uid", "nameidentifier"),
            ("email", "emailaddress"),
            ("username", "name"),
            ("first_name", "givenname"),
            ("last_name", "surname"),
        )
    }
    return {
        "APPS": [
            {
                "name": env_str("SAML_NAME", "SAML sign-on").strip() or "SAML sign-on",
                "provider_id": idp.get("entity_id", ""),
                # The organization slug in allauth's SAML URLs: /accounts/saml/<slug>/acs/
                "client_id": env_str("SAML_ORGANIZATION", "warden").strip() or "warden",
                "settings": {
                    "attribute_mapping": attr,
                    "idp": idp,
                    "sp": sp,
                    "advanced": {
                        "strict": True,
                        "want_assertion_signed": True,
                        "reject_deprecated_algorithm": True,
                    },
                },
            }
        ]
    }


def parse_group_teams(raw: str) -> dict[str, list[tuple[str, str]]]:
    """`WARDEN_SSO_GROUP_TEAMS="idp-group=team-slug:role,..."` -> {group: [(slug, role)]}."""
    mapping: dict[str, list[tuple[str, str]]] = {}
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        group, sep, target = item.rpartition("=")
        slug, _, role = target.partition(":")
        role = role.strip() or "member"
        group, slug = group.strip(), slug.strip()
        if not sep or not group or not slug:
            raise ImproperlyConfigured(
                f"WARDEN_SSO_GROUP_TEAMS: {item!r} is not idp-group=team-slug[:role]"
            )
        if role not in ROLES:
            raise ImproperlyConfigured(
                f"WARDEN_SSO_GROUP_TEAMS: {item!r}: role {role!r} is not one of {', '.join(ROLES)}"
            )
        mapping.setdefault(group, []).append((slug, role))
    return mapping


def sso_from_env(*, all_providers: bool = False) -> SSOConfig:
    """The apps and providers the environment configures; `all_providers` installs both
    provider apps even when unconfigured (the test suite configures them per test)."""
    providers: dict[str, Any] = {}
    apps: list[str] = []
    if (oidc := _oidc_from_env()) is not None:
        providers["openid_connect"] = oidc
    if (saml := _saml_from_env()) is not None:
        providers["saml"] = saml
    for name in ("openid_connect", "saml"):
        if name in providers or all_providers:
            apps.append(f"allauth.socialaccount.providers.{name}")
    if apps:
        apps.insert(0, "allauth.socialaccount")
    return SSOConfig(apps=apps, providers=providers)
