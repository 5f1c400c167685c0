//! The gateway JSON API (the chat gateway's endpoints): POST with a JSON
//! object of string fields, each endpoint one authd operation. Answers are
//! JSON: `{"error": 0, …}` on success, otherwise
//! `{"error": <authd status code>, "reason": "<status name>", …}` with the
//! HTTP status of [`http_status`]. `webd/API.md` documents every endpoint and
//! code; a test compares its tables with [`ENDPOINTS`] and [`http_status`].
//!
//! Each endpoint is one [`JsonEndpoint`]: a typed body (parsed once with
//! `serde_json`), the `authd-wire` request it becomes, and the JSON fields
//! of that operation's typed answer.

use crate::http::Response;
use authd_wire::ops::{
    CheckAccount, CodeSent, NodeTicket, Register, Registered, RequestCode, ResetPassword, TryLogin,
};
use authd_wire::{decode_answer, Opcode, Operation, Request, Status};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::net::IpAddr;
use throng_core::client::{CallError, Response as Answer};

/// One endpoint of the API.
pub trait JsonEndpoint {
    type Op: Operation + Into<Request>;
    /// The JSON object the endpoint takes.
    type Body: DeserializeOwned;
    const PATH: &'static str;
    /// The request's JSON fields, in the operation's order (for `API.md`).
    const FIELDS: &'static [&'static str];
    /// The success answer's JSON fields (for `API.md`).
    const ANSWER: &'static [&'static str];

    /// The request for `body` from the client at `client` (its address goes
    /// to every operation that limits by address).
    fn request(body: Self::Body, client: IpAddr) -> Self::Op;
    /// Adds the fields of the `ok` answer.
    fn answer(answer: <Self::Op as Operation>::Answer, out: &mut Map<String, Value>);
}

/// An endpoint of the table: what the route table and `API.md` need, and
/// its two steps as plain functions.
pub struct Endpoint {
    pub path: &'static str,
    pub opcode: Opcode,
    pub fields: &'static [&'static str],
    pub answer: &'static [&'static str],
    /// The request for a JSON body from a client, or the answer refusing it.
    pub parse: fn(&[u8], IpAddr) -> Result<Request, Response>,
    /// The JSON answer for authd's answer (or for a call that failed).
    pub finish: fn(Result<Answer, CallError>) -> Response,
}

const fn endpoint<E: JsonEndpoint>() -> Endpoint {
    Endpoint {
        path: E::PATH,
        opcode: <E::Op as Operation>::OPCODE,
        fields: E::FIELDS,
        answer: E::ANSWER,
        parse: parse::<E>,
        finish: finish::<E>,
    }
}

pub const ENDPOINTS: &[Endpoint] = &[
    endpoint::<GetVerification>(),
    endpoint::<PostRegistration>(),
    endpoint::<CheckAccountExists>(),
    endpoint::<ResetPasswordJson>(),
    endpoint::<TryLoginServer>(),
];

/// Largest JSON body an endpoint takes.
pub const MAX_BODY: usize = 4096;

pub fn endpoint_at(path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|e| e.path == path)
}

pub struct GetVerification;
pub struct PostRegistration;
pub struct CheckAccountExists;
pub struct ResetPasswordJson;
pub struct TryLoginServer;

#[derive(Deserialize)]
pub struct EmailBody {
    email: String,
}

#[derive(Deserialize)]
pub struct RegistrationBody {
    username: String,
    password: String,
    email: String,
    code: String,
}

#[derive(Deserialize)]
pub struct AccountBody {
    username: String,
    email: String,
}

#[derive(Deserialize)]
pub struct ResetBody {
    email: String,
    code: String,
    password: String,
}

#[derive(Deserialize)]
pub struct CredentialsBody {
    username: String,
    password: String,
}

impl JsonEndpoint for GetVerification {
    type Op = RequestCode;
    type Body = EmailBody;
    const PATH: &'static str = "/get_verification";
    const FIELDS: &'static [&'static str] = &["email"];
    const ANSWER: &'static [&'static str] = &["expires_in"];

    fn request(b: EmailBody, client: IpAddr) -> RequestCode {
        RequestCode {
            email: b.email,
            ip: client.to_string(),
        }
    }

    fn answer(a: CodeSent, out: &mut Map<String, Value>) {
        out.insert("expires_in".into(), json!(a.expires_in));
    }
}

impl JsonEndpoint for PostRegistration {
    type Op = Register;
    type Body = RegistrationBody;
    const PATH: &'static str = "/post_registration";
    const FIELDS: &'static [&'static str] = &["username", "password", "email", "code"];
    const ANSWER: &'static [&'static str] = &["uuid"];

    fn request(b: RegistrationBody, client: IpAddr) -> Register {
        Register {
            username: b.username,
            password: b.password.into(),
            email: b.email,
            code: b.code.into(),
            ip: client.to_string(),
        }
    }

    fn answer(a: Registered, out: &mut Map<String, Value>) {
        out.insert("uuid".into(), json!(uuid_text(&a.user)));
    }
}

impl JsonEndpoint for CheckAccountExists {
    type Op = CheckAccount;
    type Body = AccountBody;
    const PATH: &'static str = "/check_accountexists";
    const FIELDS: &'static [&'static str] = &["username", "email"];
    const ANSWER: &'static [&'static str] = &[];

    fn request(b: AccountBody, client: IpAddr) -> CheckAccount {
        CheckAccount {
            username: b.username,
            email: b.email,
            ip: client.to_string(),
        }
    }

    fn answer(_: (), out: &mut Map<String, Value>) {
        out.insert(
            "message".into(),
            json!("if this username and e-mail belong to an account, a reset code was sent to the e-mail"),
        );
    }
}

impl JsonEndpoint for ResetPasswordJson {
    type Op = ResetPassword;
    type Body = ResetBody;
    const PATH: &'static str = "/reset_password";
    const FIELDS: &'static [&'static str] = &["email", "code", "password"];
    const ANSWER: &'static [&'static str] = &[];

    fn request(b: ResetBody, client: IpAddr) -> ResetPassword {
        ResetPassword {
            email: b.email,
            code: b.code.into(),
            password: b.password.into(),
            ip: client.to_string(),
        }
    }

    fn answer(_: (), _: &mut Map<String, Value>) {}
}

impl JsonEndpoint for TryLoginServer {
    type Op = TryLogin;
    type Body = CredentialsBody;
    const PATH: &'static str = "/trylogin_server";
    const FIELDS: &'static [&'static str] = &["username", "password"];
    const ANSWER: &'static [&'static str] = &["host", "port", "token", "expires"];

    fn request(b: CredentialsBody, client: IpAddr) -> TryLogin {
        TryLogin {
            username: b.username,
            password: b.password.into(),
            ip: client.to_string(),
        }
    }

    fn answer(a: NodeTicket, out: &mut Map<String, Value>) {
        out.insert("host".into(), json!(a.host));
        out.insert("port".into(), json!(a.port));
        out.insert("token".into(), json!(a.token.as_str()));
        out.insert("expires".into(), json!(a.expires));
    }
}

/// The HTTP status of each authd status.
pub fn http_status(status: Status) -> u16 {
    use Status::*;
    match status {
        Ok => 200,
        Malformed | InvalidUsername | InvalidNickname | InvalidPassword | InvalidEmail
        | InvalidCode | InvalidPhotoId | InvalidQuery => 400,
        InvalidRequest | InvalidScope | InvalidGrant | UnsupportedGrantType
        | InvalidRedirectUri => 400,
        BadCredentials | NoSession | InvalidClient | InvalidToken => 401,
        Forbidden | AccountLocked | ConsentRequired => 403,
        NotFound | UnknownRole | OidcOff => 404,
        Taken | EmailTaken => 409,
        TooManyAttempts | TooManyCodes => 429,
        UnknownOpcode | Internal => 500,
        Busy | Unavailable | ShuttingDown | NoNode => 503,
        Timeout => 504,
        FrameTooLarge | UnsupportedVersion | Unauthenticated => 502,
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

/// The request for `E`'s JSON body, or the answer refusing the body.
fn parse<E: JsonEndpoint>(body: &[u8], client: IpAddr) -> Result<Request, Response> {
    let refuse = |msg: String| json_response(400, &error(Status::Malformed, &msg));
    let value: Value =
        serde_json::from_slice(body).map_err(|e| refuse(format!("the body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(refuse("the body must be a JSON object".into()));
    }
    let body: E::Body =
        serde_json::from_value(value).map_err(|e| refuse(format!("the body's fields: {e}")))?;
    Ok(E::request(body, client).into())
}

/// The JSON answer for authd's answer to `E` (or for a failed call).
fn finish<E: JsonEndpoint>(result: Result<Answer, CallError>) -> Response {
    let answer = match result {
        Ok(a) => a,
        Err(CallError::Timeout) => {
            return json_response(504, &error(Status::Timeout, "authd did not answer in time"))
        }
        Err(e) => return json_response(503, &error(Status::Unavailable, &e.to_string())),
    };
    match decode_answer::<E::Op>(answer.header.status, &answer.body) {
        Err(e) => {
            // The detail is for the operator, not for the public.
            log::warn!("{}: {e}", E::PATH);
            let message = "authd answered something webd cannot read";
            json_response(502, &error(Status::Internal, message))
        }
        Ok(Err(refusal)) => {
            let status = refusal.status;
            let mut e = error(status, status.name());
            if let Some(reason) = refusal.reason_text() {
                e["message"] = json!(reason);
            }
            if let Some(retry) = refusal.retry_after_secs() {
                e["retry_after"] = json!(retry);
            }
            json_response(http_status(status), &e)
        }
        Ok(Ok(ok)) => {
            let mut out = Map::new();
            out.insert("error".into(), json!(0));
            E::answer(ok, &mut out);
            json_response(200, &Value::Object(out))
        }
    }
}

fn uuid_text(u: &[u8; 16]) -> String {
    uuid::Uuid::from_bytes(*u).hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_as_a_whole() {
        let e = endpoint_at("/trylogin_server").unwrap();
        let peer: IpAddr = [192, 0, 2, 7].into();
        let Ok(Request::TryLogin(op)) = (e.parse)(br#"{"username":"a","password":"b"}"#, peer)
        else {
            panic!("not a try_login");
        };
        assert_eq!(
            (op.username.as_str(), op.password.as_str(), op.ip.as_str()),
            ("a", "b", "192.0.2.7"),
            "the client's address goes with the request"
        );
        let status = |body: &[u8]| (e.parse)(body, peer).map(|_| ()).unwrap_err().status;
        assert_eq!(status(b"not json"), 400);
        assert_eq!(status(br#"{"username":"a"}"#), 400);
        assert_eq!(status(br#"{"username":1,"password":"b"}"#), 400);
        assert_eq!(status(b"[]"), 400);
    }

    #[test]
    fn every_status_has_an_http_status() {
        for s in Status::ALL {
            assert!((200..600).contains(&http_status(*s)));
        }
        assert_eq!(uuid_text(&[0xab; 16]).len(), 36);
    }
}
