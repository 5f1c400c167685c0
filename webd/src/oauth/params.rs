//! OAuth request parameters, read from a query string or a form body:
//! each at most once (RFC 6749 3.1 and 3.2: a repeated parameter is an
//! invalid request, since two parsers could each pick a different one),
//! and the client's credentials from `Authorization: Basic` or the body
//! (RFC 6749 2.3.1; both at once is refused).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::collections::HashMap;

/// The parameters of one request.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

/// Why parameters could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ParamError {
    /// The parameter was given more than once.
    Repeated(String),
    /// Client credentials in the header and in the body, or a header that
    /// is not Basic credentials.
    BadCredentials,
}

impl ParamError {
    pub fn describe(&self) -> String {
        match self {
            ParamError::Repeated(name) => format!("{name} is repeated"),
            ParamError::BadCredentials => {
                "client credentials must come once: Basic, or client_id and client_secret in the body".into()
            }
        }
    }
}

impl Params {
    /// The parameters of a query string or an `application/x-www-form-
    /// urlencoded` body; empty values count as absent (RFC 6749 3.1).
    pub fn parse(raw: &[u8]) -> Result<Params, ParamError> {
        let mut out = HashMap::new();
        for (name, value) in form_urlencoded::parse(raw) {
            if value.is_empty() {
                continue;
            }
            if out.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(ParamError::Repeated(name.into_owned()));
            }
        }
        Ok(Params(out))
    }

    /// A parameter's value, empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// The parameters named, in that order, with their values (the
    /// hidden fields of a form that sends them back).
    pub fn pick<'a>(&'a self, names: &[&'a str]) -> Vec<(&'a str, &'a str)> {
        names
            .iter()
            .filter_map(|n| self.0.get(*n).map(|v| (*n, v.as_str())))
            .collect()
    }

    /// The client's id and secret: from `Authorization: Basic` (each part
    /// form-urlencoded, as RFC 6749 2.3.1 says) or from the body.
    pub fn client_credentials(
        &self,
        authorization: Option<&[u8]>,
    ) -> Result<(String, String), ParamError> {
        let in_body = (
            self.get("client_id").to_owned(),
            self.get("client_secret").to_owned(),
        );
        let Some(header) = authorization else {
            return Ok(in_body);
        };
        let text = std::str::from_utf8(header).map_err(|_| ParamError::BadCredentials)?;
        let Some(encoded) = text
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .map(|(_, rest)| rest.trim())
        else {
            return Err(ParamError::BadCredentials);
        };
        if !in_body.1.is_empty() {
            return Err(ParamError::BadCredentials);
        }
        let decoded = STANDARD
            .decode(encoded)
            .map_err(|_| ParamError::BadCredentials)?;
        let decoded = String::from_utf8(decoded).map_err(|_| ParamError::BadCredentials)?;
        let (id, secret) = decoded.split_once(':').ok_or(ParamError::BadCredentials)?;
        let unescape = |s: &str| -> String {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let (id, secret) = (unescape(id), unescape(secret));
        if !in_body.0.is_empty() && in_body.0 != id {
            return Err(ParamError::BadCredentials);
        }
        Ok((id, secret))
    }
}

/// A `Bearer` token from an `Authorization` header (RFC 6750 2.1).
pub fn bearer(authorization: Option<&[u8]>) -> Option<String> {
    let text = std::str::from_utf8(authorization?).ok()?;
    let (scheme, token) = text.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_parameter_is_refused_and_empty_ones_are_absent() {
        let p = Params::parse(b"a=1&b=&c=x%20y").unwrap();
        assert_eq!((p.get("a"), p.get("b"), p.get("c")), ("1", "", "x y"));
        assert_eq!(
            Params::parse(b"a=1&a=2").unwrap_err(),
            ParamError::Repeated("a".into())
        );
    }

    #[test]
    fn client_credentials_come_from_basic_or_the_body_not_both() {
        let p = Params::parse(b"client_id=app&client_secret=s3").unwrap();
        assert_eq!(
            p.client_credentials(None).unwrap(),
            ("app".into(), "s3".into())
        );
        let basic = format!("Basic {}", STANDARD.encode("my%3Aapp:p%40ss"));
        let only = Params::parse(b"grant_type=x").unwrap();
        assert_eq!(
            only.client_credentials(Some(basic.as_bytes())).unwrap(),
            ("my:app".into(), "p@ss".into())
        );
        assert_eq!(
            p.client_credentials(Some(basic.as_bytes())).unwrap_err(),
            ParamError::BadCredentials
        );
        assert!(only.client_credentials(Some(b"Basic !!!")).is_err());
        assert!(only.client_credentials(Some(b"Bearer x")).is_err());
        assert_eq!(bearer(Some(b"Bearer at.x")), Some("at.x".into()));
        assert_eq!(bearer(Some(b"Basic at.x")), None);
    }
}
