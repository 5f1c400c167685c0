//! The rules of every field authd owns. authd checks each field itself,
//! whatever webd already checked: the service that owns a field validates it.

use authd_wire::Status;

/// 1–64 characters of `a-z A-Z 0-9 . _ -`, starting with a letter or digit.
/// Unique without regard to case.
pub fn username(v: &str) -> Result<(), Status> {
    let ok = (1..=64).contains(&v.len())
        && v.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    ok.then_some(()).ok_or(Status::InvalidUsername)
}

/// 1–64 Unicode scalar values, no control characters, not only spaces.
pub fn nickname(v: &str) -> Result<(), Status> {
    let count = v.chars().count();
    let ok = (1..=64).contains(&count) && !v.chars().any(char::is_control) && !v.trim().is_empty();
    ok.then_some(()).ok_or(Status::InvalidNickname)
}

/// 8–128 bytes.
pub fn password(v: &str) -> Result<(), Status> {
    (8..=128)
        .contains(&v.len())
        .then_some(())
        .ok_or(Status::InvalidPassword)
}

/// A plausible address in its canonical form, or `invalid_email`.
///
/// One `@`, a non-empty local part, a dotted domain, no spaces or
/// controls, at most 254 bytes once canonical. Canonical means: the whole
/// address in Unicode NFC (so a composed and a decomposed "é" are one
/// address), the local part lowercased, the domain through IDNA (UTS #46)
/// to its ASCII form (so `bücher.de`, `BÜCHER.de` and `xn--bcher-kva.de`
/// are one domain). Nothing else is folded: `ß` and `ss`, `é` and `e`
/// stay different mailboxes. authd stores and compares only this form,
/// byte for byte (a binary collation), so two addresses are one account
/// exactly when they are one mailbox in this sense, whatever the database
/// collation would have held equal.
pub fn email(v: &str) -> Result<String, Status> {
    use unicode_normalization::UnicodeNormalization;
    let invalid = Status::InvalidEmail;
    if v.len() > 1024 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid);
    }
    let (local, domain) = v.split_once('@').ok_or(invalid)?;
    if local.is_empty() || domain.contains('@') {
        return Err(invalid);
    }
    let local: String = local
        .nfc()
        .collect::<String>()
        .to_lowercase()
        .nfc()
        .collect();
    let domain = idna::domain_to_ascii_strict(domain).map_err(|_| invalid)?;
    let plausible = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    let canonical = format!("{local}@{domain}");
    (plausible && canonical.len() <= 254 && !canonical.chars().any(char::is_whitespace))
        .then_some(canonical)
        .ok_or(invalid)
}

/// A photo id: a SHA-256 as 64 lowercase hex digits.
pub fn photo_id(v: &str) -> Result<(), Status> {
    (v.len() == 64 && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then_some(())
        .ok_or(Status::InvalidPhotoId)
}

/// A verification code: exactly six ASCII digits.
pub fn code(v: &str) -> bool {
    v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit())
}

/// Client address and user agent as recorded: bounded, never rejected.
pub fn clip(v: &str, max_bytes: usize) -> String {
    let mut end = v.len().min(max_bytes);
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    v[..end].chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_mailbox_has_one_canonical_address() {
        let same = [
            ("Alice@Example.COM", "alice@example.com"),
            ("e\u{301}mile@example.com", "\u{e9}mile@example.com"),
            ("\u{c9}MILE@example.com", "\u{e9}mile@example.com"),
            ("a@B\u{dc}CHER.de", "a@xn--bcher-kva.de"),
            ("a@b\u{fc}cher.de", "a@xn--bcher-kva.de"),
            ("a@xn--bcher-kva.de", "a@xn--bcher-kva.de"),
            ("a@\u{ff45}xample.com", "a@example.com"),
        ];
        for (given, canonical) in same {
            assert_eq!(email(given).as_deref(), Ok(canonical), "{given}");
        }
        let different = [
            ("strasse@example.com", "stra\u{df}e@example.com"),
            ("emile@example.com", "\u{e9}mile@example.com"),
            ("alice@example.com", "\u{430}lice@example.com"),
        ];
        for (a, b) in different {
            assert_ne!(email(a).unwrap(), email(b).unwrap(), "{a} / {b}");
        }
    }

    #[test]
    fn usernames() {
        assert!(username("alice").is_ok());
        assert!(username("a.b_c-9").is_ok());
        assert!(username("").is_err());
        assert!(username("-lead").is_err());
        assert!(username("with space").is_err());
        assert!(username("émile").is_err());
        assert!(username(&"a".repeat(64)).is_ok());
        assert!(username(&"a".repeat(65)).is_err());
    }

    #[test]
    fn nicknames_take_any_printable_unicode() {
        assert!(nickname("小明 🐱").is_ok());
        assert!(nickname(&"猫".repeat(64)).is_ok());
        assert!(nickname(&"猫".repeat(65)).is_err());
        assert!(nickname("bell\u{7}").is_err());
        assert!(nickname("   ").is_err());
    }

    #[test]
    fn passwords_emails_photos_codes() {
        assert!(password("1234567").is_err());
        assert!(password("12345678").is_ok());
        assert!(password(&"x".repeat(129)).is_err());
        assert!(email("a@b.co").is_ok());
        assert!(email("a@b").is_err());
        assert!(email("a b@c.d").is_err());
        assert!(email("a@b..c").is_err());
        assert!(email("a@@b.c").is_err());
        assert!(email("@b.c").is_err());
        assert!(photo_id(&"a".repeat(64)).is_ok());
        assert!(photo_id(&"A".repeat(64)).is_err());
        assert!(code("012345") && !code("12345") && !code("12345a"));
        assert_eq!(clip("héllo", 2), "h");
    }
}
