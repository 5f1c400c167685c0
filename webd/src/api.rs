//! The gateway JSON API (the chat gateway's endpoints): POST with a JSON
//! object of string fields, each endpoint one authd operation. Answers are
//! JSON: `{"error": 0, …}` on success, otherwise
//! `{"error": <authd status code>, "reason": "<status name>", …}` with the
//! HTTP status of [`http_status`]. `webd/API.md` documents every endpoint and
//! code; a test compares its tables with [`ENDPOINTS`] and [`http_status`].

use crate::http::Response;
use serde_json::{json, Map, Value};
use throng_core::client::{CallError, Response as Answer};
use throng_core::proto::{Field, FieldWriter, Opcode, Status};

/// One endpoint: its path, the authd operation and the request's fields
/// in the operation's order.
pub struct Endpoint {
    pub path: &'static str,
    pub opcode: Opcode,
    pub fields: &'static [&'static str],
    /// Names of the success answer's fields, in the operation's order.
    pub answer: &'static [&'static str],
}

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        path: "/get_verification",
        opcode: Opcode::RequestCode,
        fields: &["email"],
        answer: &["expires_in"],
    },
    Endpoint {
        path: "/post_registration",
        opcode: Opcode::Register,
        fields: &["username", "password", "email", "code"],
        answer: &["uuid"],
    },
    Endpoint {
        path: "/check_accountexists",
        opcode: Opcode::CheckAccount,
        fields: &["username", "email"],
        answer: &[],
    },
    Endpoint {
        path: "/reset_password",
        opcode: Opcode::ResetPassword,
        fields: &["email", "code", "password"],
        answer: &[],
    },
    Endpoint {
        path: "/trylogin_server",
        opcode: Opcode::TryLogin,
        fields: &["username", "password"],
        answer: &["host", "port", "token", "expires"],
    },
];

/// Largest JSON body an endpoint takes.
pub const MAX_BODY: usize = 4096;

pub fn endpoint(path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|e| e.path == path)
}

/// The HTTP status of each authd status.
pub fn http_status(status: Status) -> u16 {
    use Status::*;
    match status {
        Ok => 200,
        Malformed | InvalidUsername | InvalidNickname | InvalidPassword | InvalidEmail
        | InvalidCode | InvalidPhotoId => 400,
        BadCredentials | NoSession => 401,
        NotFound => 404,
        Taken | EmailTaken => 409,
        TooManyAttempts | TooManyCodes => 429,
        UnknownOpcode | Internal => 500,
        Busy | Unavailable | ShuttingDown | NoNode => 503,
        Timeout => 504,
        FrameTooLarge | UnsupportedVersion => 502,
    }
}

/// A JSON answer with its HTTP status.
pub fn json_response(status: u16, value: &Value) -> Response {
    let mut r = Response::new(status)
        .header("Content-Type: application/json")
        .header("Cache-Control: no-store")
        .body(value.to_string());
    if let Some(retry) = value.get("retry_after").and_then(Value::as_u64) {
        r = r.header(format!("Retry-After: {retry}"));
    }
    r
}

fn error(status: Status, message: &str) -> Value {
    json!({ "error": status as u8, "reason": status.name(), "message": message })
}

/// The request's fields, or the answer refusing the body.
pub fn parse_request(endpoint: &Endpoint, body: &[u8]) -> Result<Vec<String>, Response> {
    let refuse = |msg: String| json_response(400, &error(Status::Malformed, &msg));
    let value: Value =
        serde_json::from_slice(body).map_err(|e| refuse(format!("the body is not JSON: {e}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| refuse("the body must be a JSON object".into()))?;
    endpoint
        .fields
        .iter()
        .map(|name| match object.get(*name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(refuse(format!("field {name:?} must be a string"))),
            None => Err(refuse(format!("field {name:?} is missing"))),
        })
        .collect()
}

/// Writes the request fields for authd.
pub fn write_fields(values: &[String], w: &mut FieldWriter<'_>) {
    for v in values {
        w.str(v);
    }
}

/// The JSON answer for authd's answer (or for a failed call).
pub fn answer(endpoint: &Endpoint, result: Result<Answer, CallError>) -> Response {
    let answer = match result {
        Ok(a) => a,
        Err(CallError::Timeout) => {
            return json_response(504, &error(Status::Timeout, "authd did not answer in time"))
        }
        Err(e) => return json_response(503, &error(Status::Unavailable, &e.to_string())),
    };
    let Some(status) = Status::from_u8(answer.header.status) else {
        return json_response(
            502,
            &error(Status::Internal, "authd answered an unknown status"),
        );
    };
    let fields = throng_core::proto::decode_fields(&answer.body).unwrap_or_default();
    if status != Status::Ok {
        let mut e = error(status, status.name());
        match fields.first() {
            Some(Field::Str(reason)) => e["message"] = json!(reason),
            Some(Field::U32(retry)) => e["retry_after"] = json!(retry),
            _ => {}
        }
        return json_response(http_status(status), &e);
    }
    let mut out = Map::new();
    out.insert("error".into(), json!(0));
    for (name, field) in endpoint.answer.iter().zip(&fields) {
        let v = match field {
            Field::Str(s) => json!(s),
            Field::U32(n) => json!(n),
            Field::U64(n) => json!(n),
            Field::Uuid(u) => json!(uuid_text(u)),
            _ => Value::Null,
        };
        out.insert((*name).into(), v);
    }
    if endpoint.opcode == Opcode::CheckAccount {
        out.insert(
            "message".into(),
            json!("if this username and e-mail belong to an account, a reset code was sent to the e-mail"),
        );
    }
    json_response(200, &Value::Object(out))
}

fn uuid_text(u: &[u8; 16]) -> String {
    let h = hex::encode(u);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_field_by_field() {
        let e = endpoint("/trylogin_server").unwrap();
        assert_eq!(
            parse_request(e, br#"{"username":"a","password":"b"}"#).unwrap(),
            vec!["a", "b"]
        );
        assert_eq!(parse_request(e, b"not json").unwrap_err().status, 400);
        assert_eq!(
            parse_request(e, br#"{"username":"a"}"#).unwrap_err().status,
            400
        );
        assert_eq!(
            parse_request(e, br#"{"username":1,"password":"b"}"#)
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(parse_request(e, b"[]").unwrap_err().status, 400);
    }

    #[test]
    fn every_status_has_an_http_status() {
        for s in Status::ALL {
            assert!((200..600).contains(&http_status(*s)));
        }
        assert_eq!(uuid_text(&[0xab; 16]).len(), 36);
    }
}
