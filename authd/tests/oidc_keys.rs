//! The provider's signing keys over the real daemon and its commands:
//! `authd client add` registers an application, `authd keys rotate` makes
//! new keys that are published at once, sign only after
//! `oidc.key_publish_ahead`, and leave the old keys in the JWKS, so an ID
//! token signed before the rotation still verifies after it. The private
//! halves in MariaDB open only with the master key they were sealed under.

mod common;

use authd_wire::ops::{Authorization, OidcAuthorize, OidcMetadata, OidcToken, ProviderMetadata};
use common::{stores, Authd, CALLER_KEY, SECRET};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use std::process::Command;
use std::time::Duration;

const ISSUER: &str = "https://id.example.test";
const REDIRECT: &str = "https://app.example.test/cb";

fn provider_args() -> Vec<&'static str> {
    vec![
        "--set",
        "oidc.issuer=\"https://id.example.test\"",
        "--set",
        "oidc.key_reload=\"200ms\"",
        "--set",
        "oidc.key_publish_ahead=\"1s\"",
    ]
}

/// `authd <args>` with the stores' environment; its standard output.
fn cli(stores: &throng_testkit::TestStores, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_authd"))
        .args(provider_args())
        .args(args)
        .env("THRONG_AUTHD_MYSQL__URL", &stores.mysql_url)
        .env("THRONG_AUTHD_REDIS__URL", &stores.redis_url)
        .env("THRONG_AUTHD_REDIS__PREFIX", &stores.prefix)
        .env("THRONG_AUTHD_SECRET", SECRET)
        .env("THRONG_AUTHD_CALLER_KEY", CALLER_KEY)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "authd {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn jwks(c: &mut common::Client) -> JwkSet {
    let ProviderMetadata { issuer, jwks } = c.call(&OidcMetadata).unwrap();
    assert_eq!(issuer, ISSUER);
    serde_json::from_str(&jwks).unwrap()
}

/// An RS256 ID token for `session` through the authorization step and the
/// token endpoint.
fn id_token(c: &mut common::Client, session: &str, client: &serde_json::Value) -> String {
    let id = client["client_id"].as_str().unwrap();
    let answer = c
        .call(&OidcAuthorize {
            token: session.into(),
            client_id: id.into(),
            redirect_uri: REDIRECT.into(),
            scope: "openid".into(),
            nonce: "n".into(),
            code_challenge: String::new(),
            code_challenge_method: String::new(),
            prompt: 0,
            approved: true,
        })
        .unwrap();
    let Authorization::Code(code) = answer else {
        panic!("consent was given: a code")
    };
    let tokens = c
        .call(&OidcToken {
            client_id: id.into(),
            client_secret: client["client_secret"].as_str().unwrap().into(),
            grant_type: "authorization_code".into(),
            code,
            redirect_uri: REDIRECT.into(),
            code_verifier: Default::default(),
            refresh_token: Default::default(),
            scope: String::new(),
        })
        .unwrap();
    tokens.id_token.as_str().to_owned()
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// Whether `token` verifies against `set` (signature, issuer, audience).
fn verifies(token: &str, set: &JwkSet, audience: &str) -> bool {
    let Some(jwk) = set.find(&kid(token)) else {
        return false;
    };
    let mut v = Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[audience]);
    jsonwebtoken::decode::<serde_json::Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .is_ok()
}

#[test]
fn a_rotation_publishes_before_it_signs_and_old_tokens_still_verify() {
    let stores = stores();
    let authd = Authd::start(&stores, None, &provider_args());
    let mut c = authd.client();
    c.sign_up("kira", "Kira", "hunter2-hunter2").unwrap();
    let session = c.token("kira", "hunter2-hunter2");
    let client: serde_json::Value = serde_json::from_str(
        cli(
            &stores,
            &[
                "client",
                "add",
                "--name",
                "Keys app",
                "--redirect-uri",
                REDIRECT,
            ],
        )
        .trim(),
    )
    .unwrap();
    let audience = client["client_id"].as_str().unwrap().to_owned();
    assert!(client["client_secret"].as_str().unwrap().len() >= 43);
    let listed = cli(&stores, &["client", "list"]);
    assert!(
        listed.contains(&audience) && !listed.contains("secret\":\""),
        "{listed}"
    );

    let before = id_token(&mut c, &session, &client);
    let first = kid(&before);
    assert!(verifies(&before, &jwks(&mut c), &audience));

    let said = cli(&stores, &["keys", "rotate"]);
    assert!(said.contains("RS256: new key"), "{said}");
    std::thread::sleep(Duration::from_millis(400));
    let published = jwks(&mut c);
    let rs: Vec<&str> = published
        .keys
        .iter()
        .filter(|k| {
            matches!(
                k.common.key_algorithm,
                Some(jsonwebtoken::jwk::KeyAlgorithm::RS256)
            )
        })
        .filter_map(|k| k.common.key_id.as_deref())
        .collect();
    assert_eq!(rs.len(), 2, "the new key is published at once: {rs:?}");
    // Not yet signing: published for less than key_publish_ahead.
    assert_eq!(kid(&id_token(&mut c, &session, &client)), first);

    std::thread::sleep(Duration::from_millis(1200));
    let after = id_token(&mut c, &session, &client);
    assert_ne!(
        kid(&after),
        first,
        "the new key signs once published long enough"
    );
    let published = jwks(&mut c);
    assert!(verifies(&after, &published, &audience));
    assert!(
        verifies(&before, &published, &audience),
        "a token signed before the rotation still verifies"
    );
    let listed = cli(&stores, &["keys", "list"]);
    assert_eq!(listed.matches("\"retired_ms\":null").count(), 2, "{listed}");

    // The private halves are sealed under the master key: a daemon with
    // another one opens none of them (it says so and makes keys of its
    // own), so it publishes none of the first daemon's keys.
    let mut args = provider_args();
    args.extend(["--set", "secret=\"another-master-key-another-master-key!\""]);
    let other = Authd::start(&stores, None, &args);
    let theirs = jwks(&mut other.client());
    assert!(theirs.find(&first).is_none());
    assert!(theirs.find(&kid(&after)).is_none());
    assert_eq!(theirs.keys.len(), 2, "one key of each algorithm, its own");
}
