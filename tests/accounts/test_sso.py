"""Single sign-on: the whole OIDC login through allauth against a small OpenID provider that the
test runs on loopback, and the settings that turn OIDC and SAML on from the environment."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from defusedxml import EntitiesForbidden
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from governance.accounts.models import Membership, Team
from governance.accounts.services import sso_teams_join
from governance.lib.sso import parse_group_teams, saml_idp_from_metadata, sso_from_env

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "warden-test"
CLIENT_SECRET = "s3cret-" + "x" * 20


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class TinyOIDCProvider:
    """Discovery, authorize (redirects back with a code), token (an RS256 id_token signed with a
    key generated here), JWKS and userinfo. Checks the client's secret and PKCE verifier."""

    def __init__(self, *, claims: dict[str, Any]) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.claims = claims
        self.codes: dict[str, dict[str, str]] = {}
        self.tokens: set[str] = set()
        self.hits: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TinyOIDCProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self) -> dict[str, Any]:
        pub = self.key.public_key().public_numbers()
        return {
            "keys": [
                {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid}
                | {"n": _b64(pub.n), "e": _b64(pub.e)}
            ]
        }

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300}
        body |= {"jti": secrets.token_hex(8), **self.claims}
        if nonce:
            body["nonce"] = nonce
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                idp.hits.append(f"GET {url.path}")
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, idp.discovery())
                if url.path == "/jwks":
                    return self._json(200, idp.jwks())
                if url.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    if token not in idp.tokens:
                        return self._json(401, {"error": "invalid_token"})
                    return self._json(200, idp.claims)
                if url.path == "/authorize":
                    q = {k: v[0] for k, v in parse_qs(url.query).items()}
                    if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
                        return self._json(400, {"error": "invalid_request"})
                    code = secrets.token_urlsafe(16)
                    idp.codes[code] = q
                    back = urlencode({"code": code, "state": q["state"]})
                    self.send_response(302)
                    self.send_header("Location", f"{q['redirect_uri']}?{back}")
                    self.end_headers()
                    return None
                return self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                idp.hits.append(f"POST {self.path}")
                if self.path != "/token":
                    return self._json(404, {"error": "not_found"})
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                client_id, secret = form.get("client_id"), form.get("client_secret")
                basic = self.headers.get("Authorization", "")
                if basic.startswith("Basic "):
                    client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
                if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET):
                    return self._json(401, {"error": "invalid_client"})
                asked = idp.codes.pop(form.get("code", ""), None)
                if asked is None or form.get("redirect_uri") != asked["redirect_uri"]:
                    return self._json(400, {"error": "invalid_grant"})
                if "code_challenge" in asked:
                    digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                    verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                    if verifier != asked["code_challenge"]:
                        return self._json(400, {"error": "invalid_grant", "pkce": "mismatch"})
                access = secrets.token_urlsafe(16)
                idp.tokens.add(access)
                return self._json(
                    200,
                    {
                        "access_token": access,
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": idp.id_token(asked.get("nonce")),
                    },
                )

        return Handler


def _oidc_providers(issuer: str) -> dict[str, Any]:
    """What settings build from OIDC_ISSUER / OIDC_CLIENT_ID / OIDC_CLIENT_SECRET / OIDC_NAME."""
    env = {
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_NAME": "Acme SSO",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return sso_from_env().providers
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def idp() -> Iterator[TinyOIDCProvider]:
    claims = {
        "sub": "u-4711",
        "email": "ada@acme.example",
        "email_verified": True,
        "preferred_username": "ada",
        "name": "Ada Lovelace",
        "groups": ["ml-security", "everyone"],
    }
    with TinyOIDCProvider(claims=claims) as provider:
        yield provider


def _follow_to_idp(location: str) -> str:
    """The browser's step at the IdP: GET the authorize URL, return where it redirects."""
    url = urlsplit(location)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    conn.request("GET", f"{url.path}?{url.query}")
    resp = conn.getresponse()
    assert resp.status == 302, resp.read()
    back = resp.getheader("Location") or ""
    conn.close()
    return back


@pytest.mark.django_db
def test_oidc_login_end_to_end_joins_the_mapped_team(client: Any, idp: TinyOIDCProvider) -> None:
    vision = Team.objects.create(slug="vision", name="Vision")
    Team.objects.create(slug="fraud-risk", name="Fraud risk")
    mapping = parse_group_teams("ml-security=vision:lead,other-group=fraud-risk:member")
    with override_settings(
        SOCIALACCOUNT_PROVIDERS=_oidc_providers(idp.issuer), WARDEN_SSO_GROUP_TEAMS=mapping
    ):
        page = client.get("/accounts/login/")
        html = page.content.decode()
        assert "Sign in with Acme SSO" in html
        action = "/accounts/oidc/sso/login/"
        assert f'action="{action}"' in html

        start = client.post(action)
        assert start.status_code == 302
        authorize = start["Location"]
        assert authorize.startswith(f"{idp.issuer}/authorize?")
        assert "code_challenge=" in authorize  # PKCE

        callback = _follow_to_idp(authorize)
        cb = urlsplit(callback)
        assert cb.path == "/accounts/oidc/sso/login/callback/"
        done = client.get(f"{cb.path}?{cb.query}")
        assert done.status_code == 302, done.content.decode()[:2000]
        assert done["Location"] == "/"

        home = client.get("/")
        assert home.status_code == 200
        assert "ada" in home.content.decode()

    user = get_user_model().objects.get(email="ada@acme.example")
    assert user.username == "ada"
    assert not user.has_usable_password()
    memberships = list(Membership.objects.filter(user=user).values_list("team__slug", "role"))
    assert memberships == [(vision.slug, "lead")]
    assert "POST /token" in idp.hits
    assert "GET /userinfo" in idp.hits


@pytest.mark.django_db
def test_oidc_login_of_a_returning_user_joins_newly_mapped_teams(
    client: Any, idp: TinyOIDCProvider
) -> None:
    Team.objects.create(slug="vision", name="Vision")
    nlp = Team.objects.create(slug="nlp", name="NLP")
    providers = _oidc_providers(idp.issuer)

    def login() -> None:
        client.logout()
        start = client.post("/accounts/oidc/sso/login/")
        cb = urlsplit(_follow_to_idp(start["Location"]))
        assert client.get(f"{cb.path}?{cb.query}").status_code == 302

    with override_settings(
        SOCIALACCOUNT_PROVIDERS=providers,
        WARDEN_SSO_GROUP_TEAMS=parse_group_teams("ml-security=vision:member"),
    ):
        login()
    user = get_user_model().objects.get(username="ada")
    # An operator promotes Ada in vision; the next login must not demote her.
    Membership.objects.filter(user=user, team__slug="vision").update(role="lead")
    with override_settings(
        SOCIALACCOUNT_PROVIDERS=providers,
        WARDEN_SSO_GROUP_TEAMS=parse_group_teams("ml-security=vision:member,everyone=nlp:viewer"),
    ):
        login()
    roles = dict(Membership.objects.filter(user=user).values_list("team__slug", "role"))
    assert roles == {"vision": "lead", nlp.slug: "viewer"}
    assert get_user_model().objects.filter(email="ada@acme.example").count() == 1


@pytest.mark.django_db
def test_sso_signup_closed_refuses_a_new_user(client: Any, idp: TinyOIDCProvider) -> None:
    with override_settings(
        SOCIALACCOUNT_PROVIDERS=_oidc_providers(idp.issuer), WARDEN_SSO_AUTO_SIGNUP=False
    ):
        start = client.post("/accounts/oidc/sso/login/")
        cb = urlsplit(_follow_to_idp(start["Location"]))
        done = client.get(f"{cb.path}?{cb.query}", follow=True)
    assert "Sign Up Closed" in done.content.decode()
    assert not get_user_model().objects.filter(email="ada@acme.example").exists()


@pytest.mark.django_db
def test_login_page_without_sso_has_no_sso_button_and_no_closed_sign_up_link(client: Any) -> None:
    html = client.get("/accounts/login/").content.decode()
    assert "Sign in with" not in html
    assert "/accounts/signup/" not in html  # WARDEN_ALLOW_SIGNUP is off by default
    assert '<label for="id_login">' in html
    with override_settings(WARDEN_ALLOW_SIGNUP=True):
        assert "/accounts/signup/" in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_group_mapping_takes_the_strongest_role_and_skips_unknown_teams(member: Any) -> None:
    mapping = parse_group_teams("a=alpha:viewer, b=alpha:lead, c=ghost-team:member")
    joined = sso_teams_join(user=member, groups={"a", "b", "c"}, mapping=mapping)
    assert joined == []  # member is already in alpha: the role is kept
    Membership.objects.filter(user=member).delete()
    joined = sso_teams_join(user=member, groups={"a", "b", "c"}, mapping=mapping)
    assert [(m.team.slug, m.role) for m in joined] == [("alpha", "lead")]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("just-a-group", "is not idp-group=team-slug[:role]"),
        ("g=team:owner", "role 'owner' is not one of lead, member, viewer"),
    ],
)
def test_group_mapping_rejects_bad_values(raw: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_group_teams(raw)


def test_group_mapping_defaults_to_member() -> None:
    assert parse_group_teams("ml=vision") == {"ml": [("vision", "member")]}


METADATA = """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.acme.example/saml">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>MIIC
        QUJD</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.acme.example/slo"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
        Location="https://idp.acme.example/sso/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.acme.example/sso/redirect"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


def test_saml_metadata_file_gives_the_idp_settings() -> None:
    assert saml_idp_from_metadata(METADATA, source="test") == {
        "entity_id": "https://idp.acme.example/saml",
        "sso_url": "https://idp.acme.example/sso/redirect",
        "x509cert": "MIICQUJD",
        "slo_url": "https://idp.acme.example/slo",
    }


def test_saml_metadata_with_an_entity_is_refused() -> None:
    hostile = '<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'
    with pytest.raises(EntitiesForbidden):
        saml_idp_from_metadata(hostile, source="test")


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "WARDEN_TESTING": "0", "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_manage_check_passes_with_oidc_and_saml_configured(tmp_path: Path) -> None:
    meta = tmp_path / "idp.xml"
    meta.write_text(METADATA)
    env = {
        "OIDC_ISSUER": "https://login.acme.example/realms/acme",
        "OIDC_CLIENT_ID": "warden",
        "OIDC_CLIENT_SECRET": "s3cret",
        "SAML_METADATA_FILE": str(meta),
        "SAML_ENTITY_ID": "https://warden.acme.example/saml",
        "WARDEN_SSO_GROUP_TEAMS": "ml-security=vision:lead",
    }
    script = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(sorted(s.SOCIALACCOUNT_PROVIDERS));"
        "print('allauth.socialaccount.providers.saml' in s.INSTALLED_APPS);"
        "print(s.SOCIALACCOUNT_PROVIDERS['saml']['APPS'][0]['settings']['idp']['sso_url'])"
    )
    result = _manage(env, "check")
    assert result.returncode == 0, result.stderr
    shown = _manage(env, "shell", "--no-imports", "-c", script)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == [
        "['openid_connect',",
        "'saml']",
        "True",
        "https://idp.acme.example/sso/redirect",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OIDC_ISSUER": "https://idp.example"}, "needs OIDC_CLIENT_ID, OIDC_CLIENT_SECRET"),
        (
            {"OIDC_ISSUER": "idp.example", "OIDC_CLIENT_ID": "a", "OIDC_CLIENT_SECRET": "b"},
            "OIDC_ISSUER='idp.example' is not an http(s) URL",
        ),
        ({"SAML_METADATA_URL": "https://idp.example/meta"}, "needs SAML_IDP_ENTITY_ID"),
        ({"SAML_METADATA_FILE": "/nonexistent/idp.xml"}, "is not a file"),
        ({"WARDEN_SSO_GROUP_TEAMS": "oops"}, "is not idp-group=team-slug[:role]"),
    ],
)
def test_half_configured_sso_stops_start_up(env: dict[str, str], message: str) -> None:
    result = _manage(env, "check")
    assert result.returncode != 0
    assert message in result.stderr
