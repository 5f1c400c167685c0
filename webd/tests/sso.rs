//! "Sign in with …": this stack as a relying party of a second Throng,
//! started as an OpenID provider in separate processes (the `authd` and
//! `webd` binaries, their own database, Redis prefix and ports). A first
//! sign-in makes an account; the next signs it in; an identity whose
//! verified e-mail an account already has is linked only once that
//! account's password is given; `/security` lists linked identities and
//! unlinks them, and links one from a signed-in session once its password
//! is given (a reset unlinks it again); a callback that
//! this browser did not start, a refused sign-in and a replayed callback
//! sign nobody in; first sign-ins of one identity at once make one account.

mod common;

use authd::client_cli::NewClient;
use authd::config::UpstreamConfig;
use common::browser::{ready, sign_up_and_log_in, Browser, Page};
use common::{post_json_from, Stack, CALLER_KEY, CSRF_KEY, SECRET};
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;
use throng_testkit::spawn::{free_port, until_accepting};
use throng_testkit::TestStores;

const PW: &str = "hunter2-hunter2";

/// The provider: authd and webd as processes of their own.
struct Provider {
    authd: Child,
    webd: Child,
    web: SocketAddr,
    stores: TestStores,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.webd.kill();
        let _ = self.authd.kill();
        let _ = self.webd.wait();
        let _ = self.authd.wait();
    }
}

/// The `authd` binary beside this package's `webd` (built by `cargo test
/// --workspace`; built here when missing).
/// How `/security` shows an identity at the peer linked to the account.
const LINKED_ROW: &str = "<td>Peer Throng</td>";

fn authd_binary() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_webd")).with_file_name("authd");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "authd", "--bin", "authd"])
            .status()
            .unwrap();
        assert!(status.success(), "building authd");
    }
    path
}

fn set(key: &str, value: impl std::fmt::Debug) -> [String; 2] {
    ["--set".into(), format!("{key}={value:?}")]
}

impl Provider {
    fn start() -> Provider {
        let stores = TestStores::new("sso_provider");
        let (authd_port, web_port) = (free_port(), free_port());
        let authd_addr = SocketAddr::from(([127, 0, 0, 1], authd_port));
        let web = SocketAddr::from(([127, 0, 0, 1], web_port));
        let mut args: Vec<String> = Vec::new();
        for pair in [
            set("mysql.url", &stores.mysql_url),
            set("redis.url", &stores.redis_url),
            set("redis.prefix", &stores.prefix),
            set("secret", SECRET),
            set("caller_key", CALLER_KEY),
            set("oidc.issuer", format!("http://{web}")),
            set("mail.outbox", stores.outbox_path()),
        ] {
            args.extend(pair);
        }
        args.extend([
            "--set".into(),
            format!("reactor.listen=[\"{authd_addr}\"]"),
            "--set".into(),
            "reactor.threads=1".into(),
            "--set".into(),
            "argon2.memory_kib=1024".into(),
            "--set".into(),
            "argon2.iterations=1".into(),
        ]);
        let authd = Command::new(authd_binary()).args(&args).spawn().unwrap();
        assert!(
            until_accepting(authd_addr, Duration::from_secs(60)),
            "the provider's authd did not start"
        );
        let mut args: Vec<String> = Vec::new();
        for pair in [
            set("authd.key", CALLER_KEY),
            set("csrf_key", CSRF_KEY),
            set("avatars.dir", stores.dir.path().join("avatars")),
        ] {
            args.extend(pair);
        }
        args.extend([
            "--set".into(),
            format!("reactor.listen=[\"{web}\"]"),
            "--set".into(),
            format!("authd.backends=[\"{authd_addr}\"]"),
        ]);
        let webd = Command::new(env!("CARGO_BIN_EXE_webd"))
            .args(&args)
            .spawn()
            .unwrap();
        assert!(
            until_accepting(web, Duration::from_secs(30)),
            "the provider's webd did not start"
        );
        Provider {
            authd,
            webd,
            web,
            stores,
        }
    }

    fn issuer(&self) -> String {
        format!("http://{}", self.web)
    }

    /// Registers the relying party's callback as a client of this provider.
    fn register(&self, callback: &str) -> serde_json::Value {
        let mut cfg = authd::config::Config::default();
        cfg.mysql.url = self.stores.mysql_url.clone();
        cfg.secret = SECRET.into();
        let db = authd::store::db::Db::connect(&cfg.mysql.url, 1, 2).unwrap();
        authd::client_cli::add(
            &cfg,
            &db,
            NewClient {
                name: "Relying Throng".into(),
                redirect_uris: vec![callback.into()],
                post_logout_uris: vec![],
                backchannel_logout_uri: String::new(),
                public: false,
                alg: "RS256".into(),
            },
        )
        .unwrap()
    }
}

/// An account with a verified e-mail, through the chat API (the code from
/// the outbox of `outbox`).
fn register(web: SocketAddr, outbox: &throng_testkit::Outbox, username: &str, email: &str) {
    let me = "127.0.0.6".parse().unwrap();
    let mails = outbox.mails_to(email);
    let (status, v) = post_json_from(me, web, "/get_verification", "", json!({ "email": email }));
    assert_eq!(status, 200, "{v}");
    let code = outbox.nth_code(email, mails + 1);
    let body = json!({ "username": username, "password": PW, "email": email, "code": code });
    let (status, v) = post_json_from(me, web, "/post_registration", "", body);
    assert_eq!(status, 200, "{v}");
}

fn log_in(b: &mut Browser, username: &str) {
    let csrf = b.get("/login").csrf();
    let p = b.post(
        "/login",
        &[("csrf", &csrf), ("username", username), ("password", PW)],
    );
    assert_eq!((p.status, p.location()), (303, Some("/home")), "{}", p.body);
}

/// The log-in form of `ask` (a page asking for the password that
/// completes a pending link) posted with `password`.
fn log_in_to_link(b: &mut Browser, ask: &Page, username: &str, password: &str, next: &str) -> Page {
    let fields = hidden(ask);
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).unwrap().1.clone();
    let (csrf, link) = (field("csrf"), field("link"));
    b.post(
        "/login",
        &[
            ("csrf", &csrf),
            ("username", username),
            ("password", password),
            ("link", &link),
            ("next", next),
        ],
    )
}

/// The path (and query) of an absolute URL on `web`.
fn on(web: SocketAddr, url: &str) -> String {
    url.strip_prefix(&format!("http://{web}"))
        .unwrap_or_else(|| panic!("{url} is not on {web}"))
        .to_owned()
}

/// The hidden fields of a page's forms.
fn hidden(page: &Page) -> Vec<(String, String)> {
    page.body
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"")?;
            let (value, _) = rest.split_once('"')?;
            Some((
                name.to_owned(),
                html_escape::decode_html_entities(value).into_owned(),
            ))
        })
        .collect()
}

/// From the relying party's redirect to the provider, through the
/// provider's pages in `at_provider` (consent when asked), to the callback
/// URL it sends the browser back to.
fn through_provider(provider: &Provider, at_provider: &mut Browser, to_provider: &Page) -> String {
    assert_eq!(to_provider.status, 303, "{}", to_provider.body);
    let mut page = at_provider.get(&on(provider.web, to_provider.location().unwrap()));
    for _ in 0..4 {
        if page.status == 303 {
            return page.location().unwrap().to_owned();
        }
        assert!(
            page.body.contains("action=\"/oauth/authorize\""),
            "{}",
            page.body
        );
        let mut fields = hidden(&page);
        fields.push(("decision".into(), "allow".into()));
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        page = at_provider.post("/oauth/authorize", &pairs);
    }
    panic!("the provider never sent the browser back");
}

/// A relying party (`name` for its stores) with `provider` configured as
/// "peer"; its callback URL.
fn relying_party(provider: &Provider, name: &str) -> (Stack, String) {
    let rp_port = free_port();
    let callback = format!("http://127.0.0.1:{rp_port}/sso/callback");
    let client = provider.register(&callback);
    let rp = Stack::start_relying_party(
        name,
        rp_port,
        UpstreamConfig {
            id: "peer".into(),
            name: "Peer Throng".into(),
            issuer: provider.issuer(),
            client_id: client["client_id"].as_str().unwrap().into(),
            client_secret: client["client_secret"].as_str().unwrap().into(),
            scope: "openid profile email".into(),
        },
    );
    (rp, callback)
}

#[test]
fn users_sign_in_with_another_throng() {
    let provider = Provider::start();
    let (rp, callback) = relying_party(&provider, "sso_rp");
    let mut at_provider = Browser::new(provider.web);
    ready(&mut at_provider);
    sign_up_and_log_in(&mut at_provider, "pia");

    // A first sign-in makes an account.
    let mut b = Browser::new(rp.web);
    ready(&mut b);
    let login = b.get("/login");
    assert!(
        login.body.contains("Sign in with Peer Throng"),
        "{}",
        login.body
    );
    let back = through_provider(
        &provider,
        &mut at_provider,
        &b.get("/sso/start?provider=peer"),
    );
    assert!(back.starts_with(&callback), "{back}");
    let done = b.get(&on(rp.web, &back));
    assert_eq!(
        (done.status, done.location()),
        (303, Some("/home")),
        "{}",
        done.body
    );
    let home = b.get("/home");
    assert!(home.body.contains("pia"), "{}", home.body);
    let security = b.get("/security");
    assert!(security.body.contains("Peer Throng") && security.body.contains("made this account"));

    // The same callback again: its state is used up.
    let replay = b.get(&on(rp.web, &back));
    assert_eq!(replay.status, 400, "{}", replay.body);

    // Another browser: the identity signs the same account in.
    let mut b2 = Browser::new(rp.web);
    let back = through_provider(
        &provider,
        &mut at_provider,
        &b2.get("/sso/start?provider=peer"),
    );
    assert_eq!(b2.get(&on(rp.web, &back)).location(), Some("/home"));
    assert!(b2.get("/home").body.contains("pia"));

    // A callback this browser did not start signs nobody in: an attacker's
    // code and state, sent to a victim's browser.
    let mut attacker = Browser::new(rp.web);
    let back = through_provider(
        &provider,
        &mut at_provider,
        &attacker.get("/sso/start?provider=peer"),
    );
    let mut victim = Browser::new(rp.web);
    let forced = victim.get(&on(rp.web, &back));
    assert_eq!(forced.status, 400, "{}", forced.body);
    assert_eq!(victim.get("/home").location(), Some("/login"));
    // The provider said no.
    let mut c = Browser::new(rp.web);
    let start = c.get("/sso/start?provider=peer");
    let state = start
        .location()
        .unwrap()
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let refused = c.get(&format!("/sso/callback?error=access_denied&state={state}"));
    assert!(
        refused.body.contains("cancelled or refused"),
        "{}",
        refused.body
    );
    // A made-up code with this browser's own state.
    let start = c.get("/sso/start?provider=peer");
    let state = start
        .location()
        .unwrap()
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let bad = c.get(&format!("/sso/callback?code=made-up&state={state}"));
    assert!(bad.body.contains("could not sign you in"), "{}", bad.body);
    assert_eq!(c.get("/home").location(), Some("/login"));

    // A verified e-mail an account here already has: linked only with that
    // account's password.
    register(rp.web, &rp.stores.outbox(), "quinn", "quinn@example.test");
    register(
        provider.web,
        &provider.stores.outbox(),
        "quinn-p",
        "quinn@example.test",
    );
    let mut quinn_at_provider = Browser::new(provider.web);
    log_in(&mut quinn_at_provider, "quinn-p");
    let mut q = Browser::new(rp.web);
    let back = through_provider(
        &provider,
        &mut quinn_at_provider,
        &q.get("/sso/start?provider=peer"),
    );
    let ask = q.get(&on(rp.web, &back));
    assert_eq!(ask.status, 200, "{}", ask.body);
    assert!(
        ask.body.contains("Log in to it with its password"),
        "{}",
        ask.body
    );
    assert_eq!(
        q.get("/home").location(),
        Some("/login"),
        "not signed in yet"
    );
    let wrong = log_in_to_link(&mut q, &ask, "quinn", "wrong-password!", "");
    assert_eq!(wrong.status, 401);
    let right = log_in_to_link(&mut q, &ask, "quinn", PW, "");
    assert_eq!(right.location(), Some("/home"), "{}", right.body);
    let security = q.get("/security");
    assert!(
        security.body.contains("Peer Throng") && security.body.contains("quinn@example.test"),
        "{}",
        security.body
    );
    // Now the identity signs quinn in directly.
    let mut q2 = Browser::new(rp.web);
    let back = through_provider(
        &provider,
        &mut quinn_at_provider,
        &q2.get("/sso/start?provider=peer"),
    );
    assert_eq!(q2.get(&on(rp.web, &back)).location(), Some("/home"));
    assert!(q2.get("/home").body.contains("quinn"));
    // Unlinked from /security, it no longer does.
    let at = security.body.find("name=\"identity\" value=\"").unwrap() + 23;
    let id: String = security.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let csrf = security.csrf();
    let unlinked = q.post("/security/unlink", &[("csrf", &csrf), ("identity", &id)]);
    assert_eq!(unlinked.location(), Some("/security?unlinked=1"));
    assert!(!q.get("/security").body.contains("quinn@example.test</td>"));
    let mut q3 = Browser::new(rp.web);
    let back = through_provider(
        &provider,
        &mut quinn_at_provider,
        &q3.get("/sso/start?provider=peer"),
    );
    assert!(q3
        .get(&on(rp.web, &back))
        .body
        .contains("Log in to it with its password"));
    // The identity that made pia's account cannot be unlinked.
    let security = b.get("/security");
    assert!(!security.body.contains("action=\"/security/unlink\""));

    // Linking from a signed-in session: the session alone links nothing
    // (a stolen one would let its thief add a way in); the password does.
    register(rp.web, &rp.stores.outbox(), "rita", "rita@example.test");
    let mut r = Browser::new(rp.web);
    log_in(&mut r, "rita");
    let mut rita_at_provider = Browser::new(provider.web);
    sign_up_and_log_in(&mut rita_at_provider, "rita-p");
    let csrf = r.get("/security").csrf();
    let start = r.post("/sso/start", &[("csrf", &csrf), ("provider", "peer")]);
    let back = through_provider(&provider, &mut rita_at_provider, &start);
    let ask = r.get(&on(rp.web, &back));
    assert_eq!(ask.status, 200, "{}", ask.body);
    assert!(
        ask.body.contains("Enter your password to link"),
        "{}",
        ask.body
    );
    assert!(
        !r.get("/security").body.contains(LINKED_ROW),
        "a session alone linked an identity"
    );
    let wrong = log_in_to_link(&mut r, &ask, "rita", "wrong-password!", "/security");
    assert_eq!(wrong.status, 401);
    assert!(!r.get("/security").body.contains(LINKED_ROW));
    let right = log_in_to_link(&mut r, &ask, "rita", PW, "/security");
    assert_eq!(right.location(), Some("/security"), "{}", right.body);
    assert!(r.get("/security").body.contains(LINKED_ROW));
    // Without the session's CSRF token, no link is started.
    assert_eq!(
        r.post("/sso/start", &[("csrf", "x"), ("provider", "peer")])
            .status,
        403
    );
    // rita-p now signs in as rita.
    let mut r2 = Browser::new(rp.web);
    let back = through_provider(
        &provider,
        &mut rita_at_provider,
        &r2.get("/sso/start?provider=peer"),
    );
    assert_eq!(r2.get(&on(rp.web, &back)).location(), Some("/home"));
    assert!(r2.get("/home").body.contains("rita"));

    // A reset unlinks what a password linked: whoever knew the old one may
    // have linked their own identity.
    let me = "127.0.0.8".parse().unwrap();
    let mails = rp.stores.outbox().mails_to("rita@example.test");
    let body = json!({ "username": "rita", "email": "rita@example.test" });
    let (status, v) = post_json_from(me, rp.web, "/check_accountexists", "", body);
    assert_eq!(status, 200, "{v}");
    let code = rp.stores.outbox().nth_code("rita@example.test", mails + 1);
    let new_pw = "a-new-password-7";
    let body = json!({ "email": "rita@example.test", "code": code, "password": new_pw });
    let (status, v) = post_json_from(me, rp.web, "/reset_password", "", body);
    assert_eq!(status, 200, "{v}");
    let mut r3 = Browser::new(rp.web);
    let csrf = r3.get("/login").csrf();
    let p = r3.post(
        "/login",
        &[("csrf", &csrf), ("username", "rita"), ("password", new_pw)],
    );
    assert_eq!(p.location(), Some("/home"), "{}", p.body);
    assert!(
        !r3.get("/security").body.contains(LINKED_ROW),
        "an identity linked with the old password outlived the reset"
    );
    // pia's account was made by its identity: that link stays whatever
    // happens to passwords (pia has none).
    assert!(b.get("/security").body.contains(LINKED_ROW));
}

#[test]
fn first_sign_ins_of_one_identity_at_once_make_one_account() {
    let provider = Provider::start();
    let (rp, _) = relying_party(&provider, "sso_race");
    let mut at_provider = Browser::new(provider.web);
    ready(&mut at_provider);
    sign_up_and_log_in(&mut at_provider, "quinn");
    // Four browsers start a first sign-in of the same identity; their
    // callbacks then arrive together.
    let mut flows: Vec<(Browser, String)> = (0..4)
        .map(|_| {
            let mut b = Browser::new(rp.web);
            ready(&mut b);
            let start = b.get("/sso/start?provider=peer");
            let back = through_provider(&provider, &mut at_provider, &start);
            (b, back)
        })
        .collect();
    let together = std::sync::Barrier::new(flows.len());
    std::thread::scope(|s| {
        for (b, back) in flows.iter_mut() {
            let together = &together;
            s.spawn(move || {
                together.wait();
                let done = b.get(&on(b.addr, back));
                assert_eq!(done.location(), Some("/home"), "{}", done.body);
            });
        }
    });
    use mysql::prelude::Queryable;
    let mut db = rp.stores.mysql();
    // One account (its name may carry a suffix: the sign-in whose link
    // won may have lost the plain name to one whose link lost).
    let accounts: Vec<String> = db.query("SELECT username FROM users").unwrap();
    assert_eq!(
        accounts.len(),
        1,
        "one account for one identity: {accounts:?}"
    );
    assert!(accounts[0].starts_with("quinn"), "{accounts:?}");
    for (b, _) in flows.iter_mut() {
        assert!(b.get("/home").body.contains(&accounts[0]));
        assert!(b.get("/security").body.contains("made this account"));
    }
}
