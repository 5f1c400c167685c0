//! Throng as an OpenID provider, driven end to end by Authlib (Python, from
//! PyPI, in `var/venv`): two registered applications on different origins
//! — a confidential one with RS256 ID tokens and a public one with EdDSA
//! and PKCE — sign the same user in through the real log-in and consent
//! pages; then refresh with rotation and reuse detection, revocation,
//! introspection, back-channel and RP-initiated logout, and the bad inputs
//! each endpoint refuses (`oidc/relying_parties.py` says what it checks).

mod common;

use authd::client_cli::NewClient;
use common::browser::{ready, sign_up_and_log_in, Browser};
use common::Stack;
use std::process::Command;
use throng_testkit::spawn::free_port;

fn app(stack: &Stack, name: &str, host: &str, port: u16, public: bool, alg: &str) -> String {
    let base = format!("http://{host}:{port}/{}", &name[..1].to_lowercase());
    let mut json = stack.add_client(NewClient {
        name: name.into(),
        redirect_uris: vec![format!("{base}/callback")],
        post_logout_uris: vec![format!("{base}/signed-out")],
        // The receiver listens on 127.0.0.1 whatever host the pages use.
        backchannel_logout_uri: format!(
            "http://127.0.0.1:{port}/{}/backchannel",
            &name[..1].to_lowercase()
        ),
        public,
        alg: alg.into(),
    });
    assert_eq!(json["client_secret"].is_string(), !public, "{json}");
    json["redirect_uri"] = format!("{base}/callback").into();
    json["post_logout_uri"] = format!("{base}/signed-out").into();
    json["backchannel_port"] = port.into();
    json.to_string()
}

#[test]
fn two_applications_sign_in_with_throng_through_authlib() {
    let stack = Stack::start_provider("oidc");
    let mut b = Browser::new(stack.web);
    ready(&mut b);
    sign_up_and_log_in(&mut b, "olivia");
    let app_a = app(
        &stack,
        "Alpha Notes",
        "127.0.0.1",
        free_port(),
        false,
        "RS256",
    );
    let app_b = app(&stack, "Beta Chat", "localhost", free_port(), true, "EdDSA");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/relying_parties.py");
    let out = Command::new(throng_testkit::geoip::python())
        .arg(script)
        .env("ISSUER", stack.issuer())
        .env("USERNAME", "olivia")
        .env("PASSWORD", "hunter2-hunter2")
        .env("APP_A", app_a)
        .env("APP_B", app_b)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "the relying parties failed:\n{stdout}\n{stderr}"
    );
}
