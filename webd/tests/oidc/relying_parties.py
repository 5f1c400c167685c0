"""Two relying parties, written with Authlib (a client library nobody here
wrote), driving Throng's OpenID provider end to end over real HTTP:
discovery, the code flow with PKCE through the real log-in and consent
pages, the token exchange, ID-token verification against the JWKS,
userinfo, refresh with rotation and reuse detection, revocation,
introspection, cross-origin single sign-on, back-channel logout and
RP-initiated logout, codes whose session ended before their exchange, and
the bad inputs each endpoint must refuse with the error RFC 6749 / OpenID
Connect name.

Run by webd/tests/oidc.rs with the environment: ISSUER, USERNAME,
PASSWORD, APP_A and APP_B (the JSON `authd client add` printed, plus
"redirect_uri", "post_logout_uri", "backchannel_port"). Prints one line per
check; exits non-zero at the first failure, saying what and why.
"""

import base64
import html
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.parse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
import warnings

warnings.simplefilter("ignore")
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken

ISSUER = os.environ["ISSUER"]
USERNAME = os.environ["USERNAME"]
PASSWORD = os.environ["PASSWORD"]
APP_A = json.loads(os.environ["APP_A"])
APP_B = json.loads(os.environ["APP_B"])
TIMEOUT = 20


def check(ok, what):
    if not ok:
        print(f"FAILED: {what}", flush=True)
        sys.exit(1)
    print(f"ok: {what}", flush=True)


# --- the relying parties' back-channel logout endpoints ----------------------

received = {"a": [], "b": []}
received_lock = threading.Condition()


def receiver(name):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            with received_lock:
                received[name].append(form.get("logout_token", [""])[0])
                received_lock.notify_all()
            self.send_response(200)
            self.send_header("Cache-Control", "no-store")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


for app, name in ((APP_A, "a"), (APP_B, "b")):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", app["backchannel_port"]), receiver(name)
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()


def logout_tokens(name, count):
    deadline = time.time() + TIMEOUT
    with received_lock:
        while len(received[name]) < count and time.time() < deadline:
            received_lock.wait(timeout=0.5)
        return list(received[name])


# --- discovery ------------------------------------------------------------------

disc = requests.get(f"{ISSUER}/.well-known/openid-configuration", timeout=TIMEOUT).json()
check(disc["issuer"] == ISSUER, "discovery names the issuer")
check(disc["code_challenge_methods_supported"] == ["S256"], "discovery offers PKCE S256 only")
check({"RS256", "EdDSA"} <= set(disc["id_token_signing_alg_values_supported"]), "RS256 and EdDSA")
jwks = requests.get(disc["jwks_uri"], timeout=TIMEOUT).json()
key_set = JsonWebKey.import_key_set(jwks)
algs = sorted(k["alg"] for k in jwks["keys"])
check("RS256" in algs and "EdDSA" in algs, f"the JWKS has an RS256 and an EdDSA key ({algs})")
check(all(k.get("kid") for k in jwks["keys"]), "every key has a kid")
check(all("d" not in k and "p" not in k for k in jwks["keys"]), "the JWKS holds no private part")

# --- the browser ----------------------------------------------------------------

browser = requests.Session()


def hidden_fields(text):
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', text))


def unescape(text):
    return html.unescape(text)


def browse(url, pages):
    """Follows the provider's redirects and pages (log-in, consent) as a
    person would, until the browser is sent away from the provider; the
    URL it is sent to. `pages` records what was shown."""
    response = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    for _ in range(10):
        if response.status_code in (302, 303):
            location = urllib.parse.urljoin(ISSUER + "/", response.headers["Location"])
            if not location.startswith(ISSUER + "/"):
                return location
            response = browser.get(location, allow_redirects=False, timeout=TIMEOUT)
            continue
        if response.status_code != 200:
            check(False, f"a page of the provider: {response.status_code}: {response.text[:300]}")
        page = response.text
        fields = {k: unescape(v) for k, v in hidden_fields(page).items()}
        if 'action="/login"' in page:
            pages.append("login")
            fields.update(username=USERNAME, password=PASSWORD)
            response = browser.post(f"{ISSUER}/login", data=fields, allow_redirects=False, timeout=TIMEOUT)
        elif 'action="/oauth/authorize"' in page:
            pages.append("consent")
            fields["decision"] = "allow"
            response = browser.post(f"{ISSUER}/oauth/authorize", data=fields, allow_redirects=False, timeout=TIMEOUT)
        else:
            check(False, f"an unexpected page: {page[:300]}")
    check(False, "too many redirects")


def session_for(app):
    public = app["public"]
    return OAuth2Session(
        client_id=app["client_id"],
        client_secret=None if public else app["client_secret"],
        scope="openid profile email",
        redirect_uri=app["redirect_uri"],
        code_challenge_method="S256",
        token_endpoint_auth_method="none" if public else "client_secret_basic",
    )


def sign_in(app, expect_pages):
    """The code flow for `app`: the tokens and the verified ID token."""
    client = session_for(app)
    verifier = generate_token(64)
    nonce = generate_token(20)
    url, state = client.create_authorization_url(
        disc["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    pages = []
    back = browse(url, pages)
    check(pages == expect_pages, f"{app['name']}: the pages shown were {pages}, expected {expect_pages}")
    check(back.startswith(app["redirect_uri"] + "?"), f"{app['name']}: back at the exact redirect URI")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(back).query)
    check(query.get("state") == [state], f"{app['name']}: state comes back")
    token = client.fetch_token(
        disc["token_endpoint"], authorization_response=back, code_verifier=verifier
    )
    claims = jwt.decode(
        token["id_token"],
        key_set,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": ISSUER}},
        claims_params={"nonce": nonce, "client_id": app["client_id"], "access_token": token["access_token"]},
    )
    claims.validate()
    check(claims.header["alg"] == app["id_token_signed_response_alg"], f"{app['name']}: ID token signed {claims.header['alg']}")
    check(claims["aud"] == app["client_id"] and claims["nonce"] == nonce, f"{app['name']}: aud and nonce")
    return client, token, claims, query["code"][0], verifier


def oauth_error(response):
    try:
        return response.status_code, response.json().get("error")
    except ValueError:
        return response.status_code, None


def userinfo(access_token):
    return requests.get(
        disc["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT
    )


def basic(app):
    raw = f"{urllib.parse.quote(app['client_id'], safe='')}:{urllib.parse.quote(app['client_secret'], safe='')}"
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def introspect(token, app=APP_A):
    return requests.post(disc["introspection_endpoint"], data={"token": token}, headers=basic(app), timeout=TIMEOUT)


# --- application A (confidential, RS256): log-in, consent, tokens -------------

a_client, a_token, a_claims, a_code, a_verifier = sign_in(APP_A, ["login", "consent"])
info = userinfo(a_token["access_token"])
check(info.status_code == 200, f"userinfo answers ({info.status_code})")
info = info.json()
check(info["sub"] == a_claims["sub"], "userinfo's sub is the ID token's")
check(info["preferred_username"] == USERNAME, "userinfo names the user")
check(a_claims["preferred_username"] == USERNAME, "the ID token carries the profile")

# Introspection (RFC 7662).
got = introspect(a_token["access_token"]).json()
check(got["active"] and got["client_id"] == APP_A["client_id"] and got["sub"] == info["sub"], "introspection: the access token is active")
got = introspect(a_token["refresh_token"]).json()
check(got["active"] and got["token_type"] == "refresh_token", "introspection: the refresh token is active")
check(introspect("at.nothing").json() == {"active": False}, "introspection: an unknown token is inactive")
bad = requests.post(disc["introspection_endpoint"], data={"token": a_token["access_token"]}, headers=basic({**APP_A, "client_secret": "wrong"}), timeout=TIMEOUT)
check(oauth_error(bad) == (401, "invalid_client"), f"introspection with a wrong secret: {oauth_error(bad)}")
bad = requests.post(disc["introspection_endpoint"], data={"token": a_token["access_token"], "client_id": APP_B["client_id"]}, timeout=TIMEOUT)
check(oauth_error(bad) == (401, "invalid_client"), f"a public client cannot introspect: {oauth_error(bad)}")

# The code was used: a replay is refused and ends the grant it made.
replay = requests.post(
    disc["token_endpoint"],
    data={"grant_type": "authorization_code", "code": a_code, "redirect_uri": APP_A["redirect_uri"], "code_verifier": a_verifier},
    headers=basic(APP_A), timeout=TIMEOUT,
)
check(oauth_error(replay) == (400, "invalid_grant"), f"a replayed code: {oauth_error(replay)}")
check(userinfo(a_token["access_token"]).status_code == 401, "the replay ended the tokens made from the code")
check(introspect(a_token["refresh_token"]).json() == {"active": False}, "and its refresh token")

# --- refresh with rotation and reuse detection ------------------------------------

a_client, a_token, a_claims, _, _ = sign_in(APP_A, [])  # consent remembered: no page
first = a_token["refresh_token"]
rotated = a_client.refresh_token(disc["token_endpoint"], refresh_token=first)
check(rotated["refresh_token"] != first, "a refresh rotates the refresh token")
check(userinfo(rotated["access_token"]).status_code == 200, "the refreshed access token works")
jwt.decode(rotated["id_token"], key_set).validate()
reuse = requests.post(
    disc["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": first}, headers=basic(APP_A), timeout=TIMEOUT
)
check(oauth_error(reuse) == (400, "invalid_grant"), f"a used refresh token is refused: {oauth_error(reuse)}")
after = requests.post(
    disc["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]}, headers=basic(APP_A), timeout=TIMEOUT
)
check(oauth_error(after) == (400, "invalid_grant"), "the reuse ended the whole grant: its newest refresh token too")
check(userinfo(rotated["access_token"]).status_code == 401, "and its access tokens")

# --- revocation (RFC 7009) ----------------------------------------------------------

a_client, a_token, a_claims, _, _ = sign_in(APP_A, [])
revoked = requests.post(disc["revocation_endpoint"], data={"token": a_token["access_token"]}, headers=basic(APP_A), timeout=TIMEOUT)
check(revoked.status_code == 200, "revoking an access token")
check(userinfo(a_token["access_token"]).status_code == 401, "a revoked access token is refused")
check(introspect(a_token["access_token"]).json() == {"active": False}, "and inactive")
unknown = requests.post(disc["revocation_endpoint"], data={"token": "rt.unknown"}, headers=basic(APP_A), timeout=TIMEOUT)
check(unknown.status_code == 200, "revoking an unknown token is ok (RFC 7009 2.2)")
requests.post(disc["revocation_endpoint"], data={"token": a_token["refresh_token"]}, headers=basic(APP_A), timeout=TIMEOUT)
check(introspect(a_token["refresh_token"]).json() == {"active": False}, "a revoked refresh token is inactive")

# --- application B (public, EdDSA, another origin): single sign-on -------------

b_client, b_token, b_claims, b_code, b_verifier = sign_in(APP_B, ["consent"])
check(b_claims["sub"] == a_claims["sub"], "single sign-on: application B knows the same user, without a password")
check(b_claims["sid"] == a_claims["sid"], "both grants come from one Throng session (sid)")
check(introspect(b_token["access_token"]).json() == {"active": False}, "A cannot introspect B's token")
b2 = b_client.refresh_token(disc["token_endpoint"], refresh_token=b_token["refresh_token"])
check(b2["refresh_token"] != b_token["refresh_token"], "a public client refreshes with rotation")

# --- bad input --------------------------------------------------------------------

def authorize_raw(params):
    return browser.get(disc["authorization_endpoint"], params=params, allow_redirects=False, timeout=TIMEOUT)


challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
base = {"response_type": "code", "client_id": APP_A["client_id"], "redirect_uri": APP_A["redirect_uri"], "scope": "openid", "state": "s1"}
for wrong in (APP_A["redirect_uri"] + "x", APP_A["redirect_uri"] + "/", APP_A["redirect_uri"].upper(), "https://evil.example/cb", APP_B["redirect_uri"]):
    r = authorize_raw({**base, "redirect_uri": wrong})
    check(r.status_code == 400 and "Location" not in r.headers, f"a redirect URI not registered is never redirected to ({wrong})")
for evil in ("https://evil.example/", "https://e/%0d%0aSet-Cookie:%20x=1", "https://e/\r\nSet-Cookie: x=1"):
    r = authorize_raw({**base, "client_id": "a" * 65, "redirect_uri": evil})
    check(r.status_code == 400 and "Location" not in r.headers and "x" not in r.cookies, f"a malformed request is never redirected ({evil!r})")
r = authorize_raw({**base, "client_id": "nobody"})
check(r.status_code == 400 and "Location" not in r.headers, "an unknown client is never redirected to")
r = authorize_raw({**base, "client_id": APP_B["client_id"], "redirect_uri": APP_B["redirect_uri"]})
loc = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers.get("Location", "")).query)
check(loc.get("error") == ["invalid_request"] and loc.get("state") == ["s1"], f"a public client without PKCE: {loc}")
r = authorize_raw({**base, "scope": "profile"})
loc = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers.get("Location", "")).query)
check(loc.get("error") == ["invalid_scope"], f"a scope without openid: {loc}")
r = authorize_raw({**base, "response_type": "token"})
loc = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers.get("Location", "")).query)
check(loc.get("error") == ["unsupported_response_type"], f"the implicit flow is not offered: {loc}")
r = browser.get(disc["authorization_endpoint"] + "?" + urllib.parse.urlencode(base) + "&scope=openid", allow_redirects=False, timeout=TIMEOUT)
check(r.status_code == 400 and "Location" not in r.headers, "a repeated parameter is refused")
r = authorize_raw({**base, "code_challenge": challenge, "code_challenge_method": "plain"})
loc = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers.get("Location", "")).query)
check(loc.get("error") == ["invalid_request"], "the plain PKCE method is refused")

# A code with the wrong PKCE verifier.
url, _ = session_for(APP_A).create_authorization_url(disc["authorization_endpoint"], code_verifier="v" * 50, nonce="n")
back = browse(url, [])
code = urllib.parse.parse_qs(urllib.parse.urlparse(back).query)["code"][0]
wrong = requests.post(disc["token_endpoint"], data={"grant_type": "authorization_code", "code": code, "redirect_uri": APP_A["redirect_uri"], "code_verifier": "w" * 50}, headers=basic(APP_A), timeout=TIMEOUT)
check(oauth_error(wrong) == (400, "invalid_grant"), f"a wrong PKCE verifier: {oauth_error(wrong)}")
again = requests.post(disc["token_endpoint"], data={"grant_type": "authorization_code", "code": code, "redirect_uri": APP_A["redirect_uri"], "code_verifier": "v" * 50}, headers=basic(APP_A), timeout=TIMEOUT)
check(oauth_error(again) == (400, "invalid_grant"), "a code is used up by a failed exchange too")

# Client authentication and grant types.
for name, data, headers, expected in (
    ("a wrong client secret", {"grant_type": "refresh_token", "refresh_token": "rt.x"}, basic({**APP_A, "client_secret": "nope"}), (401, "invalid_client")),
    ("an unknown client", {"grant_type": "refresh_token", "refresh_token": "rt.x"}, basic({**APP_A, "client_id": "nobody"}), (401, "invalid_client")),
    ("a public client claiming a secret", {"grant_type": "refresh_token", "refresh_token": "rt.x", "client_id": APP_B["client_id"], "client_secret": "x"}, {}, (401, "invalid_client")),
    ("an unsupported grant type", {"grant_type": "password", "username": "u", "password": "p"}, basic(APP_A), (400, "unsupported_grant_type")),
    ("a missing grant type", {}, basic(APP_A), (400, "invalid_request")),
    ("an unknown refresh token", {"grant_type": "refresh_token", "refresh_token": "rt.unknown"}, basic(APP_A), (400, "invalid_grant")),
    ("an unknown code", {"grant_type": "authorization_code", "code": "nothing", "redirect_uri": APP_A["redirect_uri"]}, basic(APP_A), (400, "invalid_grant")),
    ("B's refresh token presented by A", {"grant_type": "refresh_token", "refresh_token": b2["refresh_token"]}, basic(APP_A), (400, "invalid_grant")),
):
    r = requests.post(disc["token_endpoint"], data=data, headers=headers, timeout=TIMEOUT)
    check(oauth_error(r) == expected, f"token endpoint, {name}: {oauth_error(r)}")
    check(r.headers.get("Cache-Control") == "no-store", f"token endpoint, {name}: not cached")

tampered = b2["access_token"][:-2] + ("AA" if not b2["access_token"].endswith("AA") else "BB")
check(userinfo(tampered).status_code == 401, "a tampered access token is refused")
check(userinfo(b2["access_token"]).status_code == 200, "B's access token works")
header, payload, signature = b2["id_token"].split(".")
claims = json.loads(base64.urlsafe_b64decode(payload + "==="))
claims["sub"] = "someone-else"
forged = header + "." + base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=") + "." + signature
r = browser.get(disc["end_session_endpoint"], params={"id_token_hint": forged}, allow_redirects=False, timeout=TIMEOUT)
check(r.status_code == 400, "logout refuses a tampered ID token hint")

# --- back-channel logout: "sign out everywhere" ends both applications -------------

a_client, a_token, a_claims, _, _ = sign_in(APP_A, [])
home = browser.get(f"{ISSUER}/home", timeout=TIMEOUT).text
csrf = unescape(hidden_fields(home)["csrf"])
done = browser.post(f"{ISSUER}/logout/everywhere", data={"csrf": csrf}, allow_redirects=False, timeout=TIMEOUT)
check(done.status_code == 303, "sign out everywhere")
for app, name, claims in ((APP_A, "a", a_claims), (APP_B, "b", b_claims)):
    tokens = logout_tokens(name, 1)
    check(len(tokens) >= 1, f"{app['name']} was told by back-channel logout")
    told = jwt.decode(tokens[-1], key_set)
    told.validate()
    check(told["iss"] == ISSUER and told["aud"] == app["client_id"], f"{app['name']}: the logout token is for it")
    check(told["sid"] == claims["sid"] and told["sub"] == claims["sub"], f"{app['name']}: it names the session and the user")
    check("http://schemas.openid.net/event/backchannel-logout" in told["events"] and "nonce" not in told, f"{app['name']}: the logout event")
check(userinfo(a_token["access_token"]).status_code == 401, "A's access token ended with the session")
r = requests.post(disc["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": b2["refresh_token"], "client_id": APP_B["client_id"]}, timeout=TIMEOUT)
check(oauth_error(r) == (400, "invalid_grant"), "B's refresh token ended with the session")

# --- RP-initiated logout ---------------------------------------------------------

a_client, a_token, a_claims, _, _ = sign_in(APP_A, ["login"])
r = browser.get(disc["end_session_endpoint"], allow_redirects=False, timeout=TIMEOUT)
check(r.status_code == 200 and 'action="/oauth/logout"' in r.text, "logout without a hint asks the user first")
check(browser.get(f"{ISSUER}/home", allow_redirects=False, timeout=TIMEOUT).status_code == 200, "and ends nothing by itself")
r = browser.get(disc["end_session_endpoint"], params={"id_token_hint": a_token["id_token"], "post_logout_redirect_uri": "http://127.0.0.1:1/elsewhere"}, allow_redirects=False, timeout=TIMEOUT)
check(r.status_code == 400 and "Location" not in r.headers, "a post-logout URI not registered is refused")
before = len(logout_tokens("a", 0))
r = browser.get(disc["end_session_endpoint"], params={"id_token_hint": a_token["id_token"], "post_logout_redirect_uri": APP_A["post_logout_uri"], "state": "bye"}, allow_redirects=False, timeout=TIMEOUT)
check(r.status_code == 303 and r.headers["Location"] == APP_A["post_logout_uri"] + "?state=bye", f"RP-initiated logout returns to the client ({r.status_code} {r.headers.get('Location')})")
check(browser.get(f"{ISSUER}/home", allow_redirects=False, timeout=TIMEOUT).status_code in (302, 303), "the Throng session is over")
check(len(logout_tokens("a", before + 1)) == before + 1, "A was told by back-channel logout")
check(userinfo(a_token["access_token"]).status_code == 401, "A's tokens ended")
# --- a code is worth nothing once the session that authorized it has ended ------


def code_for(app, expect_pages):
    """A code for `app` from the browser's session, not exchanged yet."""
    client = session_for(app)
    verifier = generate_token(64)
    url, _ = client.create_authorization_url(disc["authorization_endpoint"], code_verifier=verifier, nonce=generate_token(20))
    pages = []
    back = browse(url, pages)
    check(pages == expect_pages, f"{app['name']}: the pages shown were {pages}, expected {expect_pages}")
    return urllib.parse.parse_qs(urllib.parse.urlparse(back).query)["code"][0], verifier


def exchange(app, code, verifier):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app["redirect_uri"], "code_verifier": verifier}
    if app["public"]:
        return requests.post(disc["token_endpoint"], data={**data, "client_id": app["client_id"]}, timeout=TIMEOUT)
    return requests.post(disc["token_endpoint"], data=data, headers=basic(app), timeout=TIMEOUT)


for ending, path in (("log-out", "/logout"), ("sign out everywhere", "/logout/everywhere")):
    codes = [code_for(APP_A, ["login"]), code_for(APP_B, [])]
    home = browser.get(f"{ISSUER}/home", timeout=TIMEOUT).text
    csrf = unescape(hidden_fields(home)["csrf"])
    done = browser.post(f"{ISSUER}{path}", data={"csrf": csrf}, allow_redirects=False, timeout=TIMEOUT)
    check(done.status_code == 303, ending)
    for app, (code, verifier) in zip((APP_A, APP_B), codes):
        r = exchange(app, code, verifier)
        check(oauth_error(r) == (400, "invalid_grant"), f"{app['name']}: a code made before a {ending} buys nothing after it: {oauth_error(r)}")
# While the session lives, the same steps work.
code, verifier = code_for(APP_B, ["login"])
check(exchange(APP_B, code, verifier).status_code == 200, "a code of a live session is exchanged")

# --- a code presented twice at once: nothing it bought stays usable ----------
# The second presentation may land while the first is still being served
# (the grant not stored yet): it must still end what the first makes.


def exchange_twice_at_once(app, code, verifier):
    start = threading.Barrier(2)
    answers = [None, None]

    def present(i):
        start.wait()
        answers[i] = exchange(app, code, verifier)

    threads = [threading.Thread(target=present, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


winners = 0
for attempt in range(20):
    code, verifier = code_for(APP_A, [])
    answers = exchange_twice_at_once(APP_A, code, verifier)
    statuses = sorted(r.status_code for r in answers)
    check(statuses in ([200, 400], [400, 400]), f"a code presented twice at once: {statuses}")
    check(all(oauth_error(r) == (400, "invalid_grant") for r in answers if r.status_code != 200), "the loser is invalid_grant")
    for r in answers:
        if r.status_code == 200:
            winners += 1
            tokens = r.json()
            check(userinfo(tokens["access_token"]).status_code == 401, f"attempt {attempt}: the access token of a code presented twice is dead")
            check(introspect(tokens["refresh_token"]).json() == {"active": False}, f"attempt {attempt}: and its refresh token")
print(f"codes presented twice at once: {winners} of 20 answered 200 first, all of them ended", flush=True)

# --- a grant's first refresh token: derived, not stored, used once ---------
# It is checked against its grant (a MAC), and the first use writes its
# row: forging one buys nothing, and two uses at once end the grant.


def refresh(app, token):
    return requests.post(disc["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": token}, headers=basic(app), timeout=TIMEOUT)


def fresh_tokens(app):
    code, verifier = code_for(app, [])
    r = exchange(app, code, verifier)
    check(r.status_code == 200, f"an exchange: {r.status_code}")
    return r.json()


def raw_of(refresh_token):
    return base64.urlsafe_b64decode(refresh_token[len("rt."):] + "==")


def token_of(raw):
    return "rt." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


tokens = fresh_tokens(APP_A)
other = fresh_tokens(APP_A)
first = tokens["refresh_token"]
body = first[len("rt."):]
raw, other_raw = raw_of(first), raw_of(other["refresh_token"])
check(len(raw) == 40 and raw[:8] != other_raw[:8], "a first refresh token is a grant id and a MAC")
forgeries = {
    "one changed character of the MAC": "rt." + body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:],
    "another live grant's id with this MAC": token_of(other_raw[:8] + raw[8:]),
    "this grant's id with another grant's MAC": token_of(raw[:8] + other_raw[8:]),
    "a truncated one": first[:-1],
}
for name, forged in forgeries.items():
    check(oauth_error(refresh(APP_A, forged)) == (400, "invalid_grant"), f"a first refresh token, {name}, is refused")
    check(introspect(forged).json() == {"active": False}, f"a first refresh token, {name}, is inactive")
check(introspect(first).json()["active"], "the forgeries did not end the grant")
check(introspect(other["refresh_token"]).json()["active"], "nor the other one")
check(userinfo(tokens["access_token"]).status_code == 200, "nor its access token")

winners = 0
for attempt in range(10):
    tokens = fresh_tokens(APP_A)
    start = threading.Barrier(2)
    answers = [None, None]

    def present(i, token=tokens["refresh_token"]):
        start.wait()
        answers[i] = refresh(APP_A, token)

    threads = [threading.Thread(target=present, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in answers)
    check(statuses in ([200, 400], [400, 400]), f"a first refresh token used twice at once: {statuses}")
    check(userinfo(tokens["access_token"]).status_code == 401, f"attempt {attempt}: the grant ended, its first access token too")
    for r in answers:
        if r.status_code == 200:
            winners += 1
            got = r.json()
            check(userinfo(got["access_token"]).status_code == 401, f"attempt {attempt}: the refreshed access token is dead")
            check(oauth_error(refresh(APP_A, got["refresh_token"])) == (400, "invalid_grant"), f"attempt {attempt}: and its refresh token")
print(f"first refresh tokens used twice at once: {winners} of 10 answered 200 first, every grant ended", flush=True)
print("all checks passed", flush=True)
