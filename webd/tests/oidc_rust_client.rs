//! Throng as an OpenID provider driven by the Rust `openidconnect` crate
//! (a client nobody here wrote): discovery, the code flow with PKCE through
//! the real log-in and consent pages, ID-token verification against the
//! JWKS (RS256 and EdDSA clients), userinfo, refresh with rotation,
//! introspection and revocation (by hand: the crate revokes over https
//! only).

mod common;

use authd::client_cli::NewClient;
use common::browser::{ready, sign_up_and_log_in, Browser, Page};
use common::Stack;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IntrospectionUrl,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope,
    TokenIntrospectionResponse, TokenResponse,
};

/// The hidden fields of the first form on a page, unescaped.
fn hidden_fields(page: &Page) -> Vec<(String, String)> {
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

/// The browser's way through log-in and consent to the redirect back.
fn browse(b: &mut Browser, url: &str, issuer: &str) -> String {
    let mut page = b.get(url.strip_prefix(issuer).unwrap());
    for _ in 0..10 {
        if let Some(location) = page.location().map(str::to_owned) {
            if !location.starts_with('/') {
                return location;
            }
            page = b.get(&location);
            continue;
        }
        assert_eq!(page.status, 200, "{}", page.body);
        let mut fields = hidden_fields(&page);
        let action = if page.body.contains("action=\"/login\"") {
            fields.push(("username".into(), "oscar".into()));
            fields.push(("password".into(), "hunter2-hunter2".into()));
            "/login"
        } else {
            fields.push(("decision".into(), "allow".into()));
            "/oauth/authorize"
        };
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        page = b.post(action, &pairs);
    }
    panic!("too many steps");
}

fn sign_in_with(stack: &Stack, alg: &str, algorithm: CoreJwsSigningAlgorithm) {
    let issuer = stack.issuer();
    let redirect = "http://127.0.0.1:9/callback".to_owned();
    let app = stack.add_client(NewClient {
        name: format!("Rust app {alg}"),
        redirect_uris: vec![redirect.clone()],
        post_logout_uris: vec![],
        backchannel_logout_uri: String::new(),
        public: false,
        alg: alg.into(),
    });
    let http = openidconnect::ureq::builder().redirects(0).build();
    let metadata =
        CoreProviderMetadata::discover(&IssuerUrl::new(issuer.clone()).unwrap(), &http).unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(app["client_id"].as_str().unwrap().into()),
        Some(ClientSecret::new(
            app["client_secret"].as_str().unwrap().into(),
        )),
    )
    .set_redirect_uri(RedirectUrl::new(redirect).unwrap())
    .set_introspection_url(IntrospectionUrl::new(format!("{issuer}/oauth/introspect")).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let mut b = Browser::new(stack.web);
    let back = browse(&mut b, url.as_str(), &issuer);
    let back = openidconnect::url::Url::parse(&back).unwrap();
    let query: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(query.get("state"), Some(state.secret()));
    let tokens = client
        .exchange_code(AuthorizationCode::new(query["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request(&http)
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![algorithm.clone()]);
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("a valid ID token");
    assert_eq!(claims.preferred_username().unwrap().as_str(), "oscar");
    if algorithm == CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256 {
        let hash = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&hash));
    }
    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request(&http)
        .unwrap();
    assert_eq!(info.subject(), claims.subject());
    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request(&http)
        .unwrap();
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        tokens.refresh_token().unwrap().secret()
    );
    let seen = client
        .introspect(refreshed.access_token())
        .request(&http)
        .unwrap();
    assert!(seen.active());
    // The crate revokes over https only (RFC 7009 asks TLS of a real
    // deployment): the same request, by hand, over this test's http.
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        app["client_id"].as_str().unwrap(),
        app["client_secret"].as_str().unwrap()
    ));
    let revoked = http
        .post(&format!("{issuer}/oauth/revoke"))
        .set("Authorization", &format!("Basic {basic}"))
        .send_form(&[("token", refreshed.access_token().secret())])
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let seen = client
        .introspect(refreshed.access_token())
        .request(&http)
        .unwrap();
    assert!(!seen.active());
    // The used refresh token again: refused, and the grant is over.
    assert!(client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request(&http)
        .is_err());
    assert!(client
        .exchange_refresh_token(refreshed.refresh_token().unwrap())
        .unwrap()
        .request(&http)
        .is_err());
}

#[test]
fn the_openidconnect_crate_signs_in_with_rs256_and_eddsa() {
    let stack = Stack::start_provider("oidc_rust");
    let mut b = Browser::new(stack.web);
    ready(&mut b);
    sign_up_and_log_in(&mut b, "oscar");
    sign_in_with(
        &stack,
        "RS256",
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    );
    sign_in_with(&stack, "EdDSA", CoreJwsSigningAlgorithm::EdDsa);
}
