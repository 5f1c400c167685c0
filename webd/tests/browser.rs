//! End to end in a real browser: headless Chromium (Debian's `chromium`,
//! which `make test` installs) drives the pages through the real stack with
//! real forms and a real file upload — sign-up, log-in, home, a nickname
//! with emoji and CJK, an avatar, log-out — then the security page, a
//! warning after a sign-in from a new device in a far country (client
//! addresses through a trusted proxy's `X-Forwarded-For`, places from a
//! GeoIP2 database made for the test) and every console page, and saves a
//! screenshot of each page under `target/browser/` for review.

mod common;

use common::Stack;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn shot(tab: &Tab, name: &str) {
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
}

fn fill(tab: &Tab, selector: &str, text: &str) {
    tab.find_element(selector).unwrap().click().unwrap();
    tab.type_str(text).unwrap();
}

/// Clicks a submit button and waits until the page that comes back
/// contains `expect`.
fn submit(tab: &Tab, selector: &str, expect: &str) {
    tab.find_element(selector).unwrap().click().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if tab.get_content().is_ok_and(|c| c.contains(expect)) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no page with {expect:?} after {selector}; at {}",
            tab.get_url()
        );
    }
}

/// Headless Chromium with the flags this machine needs.
fn chromium() -> Browser {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: `make test` installs Debian's chromium (deploy/deps.sh browser)"
    );
    let args: Vec<&OsStr> = [
        "--no-first-run",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    Browser::new(
        LaunchOptions::default_builder()
            .path(Some(CHROMIUM.into()))
            .headless(true)
            .sandbox(false)
            .window_size(Some((1000, 800)))
            .idle_browser_timeout(Duration::from_secs(120))
            .args(args)
            .build()
            .unwrap(),
    )
    .unwrap()
}

fn go(tab: &Tab, url: &str) {
    tab.navigate_to(url)
        .unwrap()
        .wait_until_navigated()
        .unwrap();
}

#[test]
fn the_whole_flow_in_chromium() {
    let stack = Stack::start("browser");
    let base = format!("http://{}", stack.web);
    let browser = chromium();
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(20));

    // webd reaches authd in the background; wait for the first page.
    tab.navigate_to(&format!("{base}/"))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    assert!(tab.get_url().ends_with("/login"), "{}", tab.get_url());

    tab.navigate_to(&format!("{base}/signup"))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    fill(&tab, "input[name=username]", "kim");
    fill(&tab, "input[name=nickname]", "Kim");
    fill(&tab, "input[name=password]", "hunter2-hunter2");
    fill(&tab, "input[name=password2]", "hunter2-hunter2");
    shot(&tab, "1-signup");
    submit(&tab, "button[type=submit]", "Your account is ready");
    assert!(
        tab.get_url().ends_with("/login?notice=created"),
        "{}",
        tab.get_url()
    );
    assert!(tab.get_content().unwrap().contains("Your account is ready"));

    fill(&tab, "input[name=username]", "kim");
    fill(&tab, "input[name=password]", "wrong-password");
    submit(&tab, "button[type=submit]", "Wrong username or password");
    assert!(tab
        .get_content()
        .unwrap()
        .contains("Wrong username or password"));
    shot(&tab, "2-login-failed");
    fill(&tab, "input[name=password]", "hunter2-hunter2");
    submit(&tab, "button[type=submit]", "Edit profile");
    assert!(tab.get_url().ends_with("/home"), "{}", tab.get_url());
    shot(&tab, "3-home");

    tab.navigate_to(&format!("{base}/edit"))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    let nickname = tab.find_element("input[name=nickname]").unwrap();
    nickname.click().unwrap();
    tab.press_key("End").unwrap();
    tab.type_str(" 김치 🌶 漢字").unwrap();
    submit(
        &tab,
        "form[action='/edit'] button[type=submit]",
        "Kim 김치 🌶 漢字",
    );
    assert!(tab.get_url().ends_with("/home"));

    let picture = image::RgbImage::from_fn(300, 200, |x, y| image::Rgb([x as u8, 90, y as u8]));
    let file = stack.stores.dir.path().join("me.png");
    picture.save(&file).unwrap();
    tab.navigate_to(&format!("{base}/edit"))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    tab.find_element("input[type=file]")
        .unwrap()
        .set_input_files(&[file.to_str().unwrap()])
        .unwrap();
    shot(&tab, "4-edit");
    submit(
        &tab,
        "form[action='/edit/avatar'] button[type=submit]",
        "/avatars/",
    );
    assert!(tab.get_url().ends_with("/home"), "{}", tab.get_url());
    std::thread::sleep(Duration::from_millis(300));
    shot(&tab, "5-home-with-avatar");

    submit(&tab, "form[action='/logout'] button", "Log in</h1>");
    assert!(tab.get_url().ends_with("/login"));
    tab.navigate_to(&format!("{base}/home"))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    assert!(
        tab.get_url().ends_with("/login"),
        "logged out: /home sends back to log-in"
    );
    shot(&tab, "6-logged-out");
}

/// Signs `username` up and in on `tab` from client address `from` (the
/// trusted proxy's header), ending on /home.
fn sign_up_and_in(tab: &Tab, base: &str, username: &str, nickname: &str) {
    go(tab, &format!("{base}/signup"));
    fill(tab, "input[name=username]", username);
    fill(tab, "input[name=nickname]", nickname);
    fill(tab, "input[name=password]", "hunter2-hunter2");
    fill(tab, "input[name=password2]", "hunter2-hunter2");
    submit(tab, "button[type=submit]", "Your account is ready");
    log_in(tab, username);
}

fn log_in(tab: &Tab, username: &str) {
    fill(tab, "input[name=username]", username);
    fill(tab, "input[name=password]", "hunter2-hunter2");
    submit(tab, "button[type=submit]", "Edit profile");
}

/// A tab in a fresh browser context (its own cookies: another device),
/// whose requests come "from" `ip` through the trusted proxy.
fn device_tab(
    context: &headless_chrome::browser::context::Context<'_>,
    ip: &str,
) -> std::sync::Arc<Tab> {
    let tab = context.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(20));
    tab.set_extra_http_headers(std::collections::HashMap::from([("X-Forwarded-For", ip)]))
        .unwrap();
    tab
}

#[test]
fn security_warnings_and_the_console_in_chromium() {
    use throng_testkit::geoip::{PARIS, TOKYO};
    let limits = webd::http::HttpLimits {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..webd::http::HttpLimits::default()
    };
    let stack = Stack::start_tuned("browser_console", None, limits, |cfg, stores| {
        cfg.security.geoip = throng_testkit::geoip::database(stores.dir.path());
    });
    let base = format!("http://{}", stack.web);
    let browser = chromium();

    // Kim signs up and in at home in Paris, then from a phone in Tokyo.
    let home = browser.new_context().unwrap();
    let laptop = device_tab(&home, PARIS);
    go(&laptop, &format!("{base}/"));
    sign_up_and_in(&laptop, &base, "kim", "Kim 김치 🌶 漢字");
    let travel = browser.new_context().unwrap();
    let phone = device_tab(&travel, TOKYO);
    go(&phone, &format!("{base}/login"));
    log_in(&phone, "kim");
    let page = phone.get_content().unwrap();
    assert!(
        page.contains("a device this account had not used"),
        "{page}"
    );
    assert!(
        page.contains("a country this account had not signed in from"),
        "{page}"
    );
    assert!(page.contains("too far from the previous sign-in"), "{page}");
    shot(&phone, "7-warning-notice");

    go(&laptop, &format!("{base}/security"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !laptop.get_content().unwrap().contains("Tokyo, JP") {
        assert!(
            std::time::Instant::now() < deadline,
            "the Tokyo session never showed"
        );
        std::thread::sleep(Duration::from_millis(200));
        go(&laptop, &format!("{base}/security"));
    }
    let page = laptop.get_content().unwrap();
    assert!(
        page.contains("Paris, FR") && page.contains("this session"),
        "{page}"
    );
    shot(&laptop, "8-security");

    // The phone's session, signed out from the laptop.
    submit(
        &laptop,
        "tr:not(:has(.tag)) form[action='/security/end'] button",
        "That session is signed out",
    );
    go(&phone, &format!("{base}/home"));
    assert!(phone.get_url().ends_with("/login"), "{}", phone.get_url());

    // The console, as an admin (granted from the host).
    let office = browser.new_context().unwrap();
    let admin = device_tab(&office, PARIS);
    go(&admin, &format!("{base}/signup"));
    sign_up_and_in(&admin, &base, "boss", "老板 👑");
    stack.grant("boss", "admin");
    go(&admin, &format!("{base}/login"));
    log_in(&admin, "boss");
    go(&admin, &format!("{base}/admin"));
    assert!(admin.get_content().unwrap().contains("Your permissions"));
    shot(&admin, "9-admin");
    fill(&admin, "input[name=q]", "ki");
    submit(&admin, "form button[type=submit]", "/admin/user?id=");
    shot(&admin, "10-admin-users");
    admin.find_element("td a").unwrap().click().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !admin.get_content().unwrap().contains("Recent sign-ins") {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(100));
    }
    shot(&admin, "11-admin-user");
    submit(
        &admin,
        "form[action='/admin/lock'] button",
        "The account is locked",
    );
    shot(&admin, "12-admin-user-locked");
    go(&laptop, &format!("{base}/home"));
    assert!(
        laptop.get_url().ends_with("/login"),
        "the lock ended kim's session"
    );
    go(&admin, &format!("{base}/admin/audit"));
    let page = admin.get_content().unwrap();
    assert!(
        page.contains("user.lock") && page.contains("role.grant"),
        "{page}"
    );
    shot(&admin, "13-admin-audit");
    go(&admin, &format!("{base}/admin/insight"));
    assert!(admin
        .get_content()
        .unwrap()
        .contains("Usernames tried most"));
    shot(&admin, "14-admin-insight");
}

/// A stand-in for an application's callback: answers every request with a
/// page naming the request line, so the browser lands somewhere real.
fn application_page() -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let line = String::from_utf8_lossy(&buf[..n])
                .lines()
                .next()
                .unwrap_or("")
                .replace(['<', '>', '&'], "");
            let body = format!(
                "<!doctype html><title>App</title><h1>Signed in at the app</h1><p>{line}</p>"
            );
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

/// An application signs a user in through the provider in a real browser:
/// the log-in page on the way, the consent page, and the redirect back to
/// the application's own origin — which the pages' Content-Security-Policy
/// (`form-action`, applied by Chromium to a form's redirects) must allow.
#[test]
fn an_application_signs_in_through_chromium() {
    let stack = Stack::start_provider("browser_oidc");
    let base = stack.issuer();
    let app = application_page();
    let callback = format!("http://{app}/cb");
    let client = stack.add_client(authd::client_cli::NewClient {
        name: "Notes 📝 app".into(),
        redirect_uris: vec![callback.clone()],
        post_logout_uris: vec![],
        backchannel_logout_uri: String::new(),
        public: true,
        alg: "EdDSA".into(),
    });
    let browser = chromium();
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(Duration::from_secs(20));
    sign_up_and_in(&tab, &base, "chloe", "Chloé");
    submit(&tab, "form[action='/logout'] button", "Log in");
    // Signed out, the application sends the browser to the provider.
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={}&scope=openid%20profile&state=st8&nonce=n0&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        client["client_id"].as_str().unwrap(),
        callback.replace(':', "%3A").replace('/', "%2F")
    );
    go(&tab, &format!("{base}/oauth/authorize?{query}"));
    assert!(
        tab.get_url().starts_with(&format!("{base}/login?next=")),
        "{}",
        tab.get_url()
    );
    shot(&tab, "15-oidc-login");
    fill(&tab, "input[name=username]", "chloe");
    fill(&tab, "input[name=password]", "hunter2-hunter2");
    submit(&tab, "button[type=submit]", "Allow Notes");
    shot(&tab, "16-oidc-consent");
    submit(&tab, "button[value=allow]", "Signed in at the app");
    let url = tab.get_url();
    assert!(url.starts_with(&format!("{callback}?code=")), "{url}");
    assert!(url.ends_with("&state=st8"), "{url}");
    shot(&tab, "17-oidc-back-at-the-app");
    // Consent is remembered: the next authorization goes straight back.
    go(&tab, &format!("{base}/oauth/authorize?{query}"));
    assert!(
        tab.get_url().starts_with(&format!("{callback}?code=")),
        "{}",
        tab.get_url()
    );
}
