//! The scopes the provider offers (`openid profile email`, and
//! `offline_access`, which every grant has in effect: refresh tokens are
//! always issued) and how a requested scope is read: space-separated,
//! `openid` required, unknown values dropped (RFC 6749 3.3 lets a server
//! grant less than asked; the token answer says what was granted).

/// What the provider offers, in the order the discovery document lists.
pub const OFFERED: &[&str] = &["openid", "profile", "email", "offline_access"];

/// The granted scope for a requested one: the offered values asked for,
/// in the offered order, once each; `None` without `openid`.
pub fn granted(requested: &str) -> Option<String> {
    let asked: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
    if !asked.contains(&"openid") {
        return None;
    }
    let kept: Vec<&str> = OFFERED
        .iter()
        .copied()
        .filter(|s| asked.contains(s))
        .collect();
    Some(kept.join(" "))
}

/// Whether `scope` includes `value`.
pub fn has(scope: &str, value: &str) -> bool {
    scope.split(' ').any(|s| s == value)
}

/// Whether every value of `narrower` is in `wider`.
pub fn within(narrower: &str, wider: &str) -> bool {
    narrower
        .split(' ')
        .filter(|s| !s.is_empty())
        .all(|s| has(wider, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openid_is_required_and_unknown_values_are_dropped() {
        assert_eq!(
            granted("email openid openid x"),
            Some("openid email".into())
        );
        assert_eq!(granted("profile email"), None);
        assert_eq!(granted(""), None);
        assert!(within("openid email", "openid profile email"));
        assert!(!within("openid email", "openid profile"));
        assert!(has("openid profile", "profile") && !has("openid profile", "prof"));
    }
}
