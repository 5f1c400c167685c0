//! Every operation's request and answer decode back to what was encoded,
//! and any byte sequence under any opcode is a request or a typed error,
//! never a panic.

use authd_wire::ops::*;
use authd_wire::{
    decode_answer, decode_body, encode_body, Detail, Message, Operation, Refusal, Request,
    RequestError, Status,
};
use proptest::prelude::*;

fn round_trip<O: Operation + Clone + PartialEq + std::fmt::Debug + Into<Request>>(
    op: O,
    answer: O::Answer,
) where
    O::Answer: PartialEq + std::fmt::Debug,
{
    let body = encode_body(&op);
    assert_eq!(
        Request::decode(O::OPCODE.into(), &body),
        Ok(op.clone().into())
    );
    assert_eq!(decode_body::<O>(&body), Ok(op));
    let answered = encode_body(&answer);
    assert_eq!(
        decode_answer::<O>(Status::Ok.into(), &answered),
        Ok(Ok(answer))
    );
}

proptest! {
    #[test]
    fn every_operation_round_trips(
        a in ".{0,40}", b in ".{0,40}", c in ".{0,40}", d in ".{0,40}",
        user in any::<[u8; 16]>(), n in any::<u32>(), t in any::<u64>(),
        avatar in proptest::option::of(".{0,20}"),
    ) {
        let profile = Profile {
            user,
            username: a.clone(),
            nickname: b.clone(),
            avatar: avatar.clone(),
        };
        round_trip(
            SignUp { username: a.clone(), nickname: b.clone(), password: c.as_str().into(), ip: d.clone() },
            SignedUp { user },
        );
        round_trip(
            SignIn { username: a.clone(), password: b.as_str().into(), ip: c.clone(), agent: d.clone() },
            SignedIn { token: c.as_str().into(), profile: profile.clone() },
        );
        round_trip(ValidateSession { token: a.as_str().into() }, profile.clone());
        round_trip(Logout { token: a.as_str().into() }, ());
        round_trip(
            Lookup { user },
            LookedUp { username: a.clone(), nickname: b.clone(), avatar },
        );
        round_trip(ChangeNickname { token: a.as_str().into(), nickname: b.clone() }, ());
        round_trip(ChangeAvatar { token: a.as_str().into(), photo: b.clone() }, ());
        round_trip(RequestCode { email: a.clone(), ip: b.clone() }, CodeSent { expires_in: n });
        round_trip(
            Register { username: a.clone(), password: b.as_str().into(), email: c.clone(), code: d.as_str().into(), ip: a.clone() },
            Registered { user },
        );
        round_trip(CheckAccount { username: a.clone(), email: b.clone(), ip: c.clone() }, ());
        round_trip(
            ResetPassword { email: a.clone(), code: b.as_str().into(), password: c.as_str().into(), ip: d.clone() },
            (),
        );
        round_trip(
            TryLogin { username: a.clone(), password: b.as_str().into(), ip: c.clone() },
            NodeTicket { host: c.clone(), port: n, token: d.as_str().into(), expires: t },
        );
        round_trip(Whoami { token: a.as_str().into() }, Identity { user, username: b });
        round_trip(LogoutEverywhere { token: a.as_str().into() }, ());
    }

    #[test]
    fn any_bytes_are_a_request_or_a_typed_error(opcode in any::<u8>(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
        match Request::decode(opcode, &body) {
            Ok(request) => prop_assert_eq!(u8::from(request.opcode()), opcode),
            Err(RequestError::UnknownOpcode(o)) => prop_assert_eq!(o, opcode),
            Err(RequestError::Malformed(_)) => {}
        }
    }

    #[test]
    fn any_answer_bytes_decode_or_fail_typed(status in any::<u8>(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_answer::<SignIn>(status, &body);
        let _ = decode_answer::<TryLogin>(status, &body);
    }
}

#[test]
fn refusals_carry_their_detail() {
    for refusal in [
        Refusal::new(Status::NoSession),
        Refusal::reason(Status::InvalidCode, "wrong code; 4 tries left"),
        Refusal::retry_after(Status::TooManyAttempts, 42),
    ] {
        let body = encode_body(&refusal.detail);
        assert_eq!(
            decode_answer::<SignIn>(refusal.status.into(), &body),
            Ok(Err(refusal))
        );
    }
    assert!(
        decode_answer::<SignIn>(200, &[]).is_err(),
        "an unknown status"
    );
    let mut two = Vec::new();
    Detail::Reason("a".into()).encode(&mut throng_core::proto::FieldWriter::new(&mut two));
    Detail::RetryAfter(1).encode(&mut throng_core::proto::FieldWriter::new(&mut two));
    assert!(
        decode_answer::<SignIn>(Status::Malformed.into(), &two).is_err(),
        "a refusal carries one field at most"
    );
}

#[test]
fn secrets_never_print() {
    let op = SignIn {
        username: "alice".into(),
        password: "hunter22hunter22".into(),
        ip: String::new(),
        agent: String::new(),
    };
    let text = format!("{op:?}");
    assert!(
        !text.contains("hunter22") && text.contains("[redacted]"),
        "{text}"
    );
}
