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

/// A plausible address: one `@`, a non-empty local part, a dotted domain,
/// no spaces or controls, at most 254 bytes.
pub fn email(v: &str) -> Result<(), Status> {
    let ok = v.len() <= 254
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && match v.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    ok.then_some(()).ok_or(Status::InvalidEmail)
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
        assert!(photo_id(&"a".repeat(64)).is_ok());
        assert!(photo_id(&"A".repeat(64)).is_err());
        assert!(code("012345") && !code("12345") && !code("12345a"));
        assert_eq!(clip("héllo", 2), "h");
    }
}
