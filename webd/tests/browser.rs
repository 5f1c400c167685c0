//! End to end in a real browser: headless Chromium (Debian's `chromium`,
//! which `make test` installs) drives the pages through the real stack with
//! real forms and a real file upload — sign-up, log-in, home, a nickname
//! with emoji and CJK, an avatar, log-out — and saves a screenshot of each
//! page under `target/browser/` for review.

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

#[test]
fn the_whole_flow_in_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: `make test` installs Debian's chromium (deploy/deps.sh browser)"
    );
    let stack = Stack::start("browser");
    let base = format!("http://{}", stack.web);
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
    let browser = Browser::new(
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
    .unwrap();
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
