//! A User-Agent string as people read it: the browser and the platform,
//! parsed by `woothee` (Project Woothee's rules: microseconds a string, no
//! regular-expression set to load). What it cannot name is "unknown", and
//! an empty agent (TryLogin, scripts) is "none".

/// Agents a thread remembers the names of: traffic repeats a handful of
/// User-Agent strings, and the history writer names every sign-in's.
const REMEMBERED: usize = 1024;

thread_local! {
    static NAMED: std::cell::RefCell<std::collections::HashMap<String, (String, String)>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// (browser, platform), e.g. ("Chrome 120", "Windows 10"); remembered per
/// thread for the [`REMEMBERED`] agents seen last (all forgotten at once
/// when full: bounded, and cheap to keep).
pub fn describe(agent: &str) -> (String, String) {
    if let Some(named) = NAMED.with(|n| n.borrow().get(agent).cloned()) {
        return named;
    }
    let named = parse(agent);
    NAMED.with(|n| {
        let mut n = n.borrow_mut();
        if n.len() >= REMEMBERED {
            n.clear();
        }
        n.insert(agent.to_owned(), named.clone());
    });
    named
}

fn parse(agent: &str) -> (String, String) {
    if agent.trim().is_empty() {
        return ("none".into(), "none".into());
    }
    let parser = woothee::parser::Parser::new();
    let Some(r) = parser.parse(agent) else {
        return ("unknown".into(), "unknown".into());
    };
    let known = |v: &str| !v.is_empty() && v != woothee::woothee::VALUE_UNKNOWN;
    let browser = match (known(r.name), known(r.version)) {
        (true, true) => format!("{} {}", r.name, major(r.version)),
        (true, false) => r.name.to_owned(),
        _ => "unknown".to_owned(),
    };
    let platform = if known(r.os) {
        r.os.to_owned()
    } else {
        "unknown".to_owned()
    };
    (
        crate::validate::clip(&browser, 64),
        crate::validate::clip(&platform, 64),
    )
}

/// The browser alone, for the analysis (grouped by name, not version).
pub fn browser_family(agent: &str) -> String {
    let (browser, _) = describe(agent);
    browser.split(' ').next().unwrap_or("unknown").to_owned()
}

/// "120.0.6099.109" → "120".
fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_and_platforms_have_names() {
        let (b, p) = describe(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/120.0.6099.109 Safari/537.36",
        );
        assert_eq!((b.as_str(), p.as_str()), ("Chrome 120", "Windows 10"));
        let (b, p) = describe(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
             (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        );
        assert_eq!((b.as_str(), p.as_str()), ("Safari 17", "iPhone"));
        assert_eq!(describe(""), ("none".into(), "none".into()));
        assert!(describe("curl/8.0").0.starts_with("HTTP Library"));
        assert_eq!(describe("\u{1}garbage\u{2}").0, "unknown");
        assert_eq!(
            browser_family(
                "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
            ),
            "Firefox"
        );
    }
}
