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
            permissions: n,
        };
        round_trip(
            SignUp { username: a.clone(), nickname: b.clone(), password: c.as_str().into(), ip: d.clone() },
            SignedUp { user },
        );
        round_trip(
            SignIn { username: a.clone(), password: b.as_str().into(), ip: c.clone(), agent: d.clone(), device: a.clone(), referrer: b.clone(), link: c.as_str().into() },
            SignedIn { token: c.as_str().into(), profile: profile.clone(), warnings: n },
        );
        round_trip(ValidateSession { token: a.as_str().into() }, profile.clone());
        round_trip(Logout { token: a.as_str().into() }, ());
        round_trip(
            Lookup { user },
            LookedUp { username: a.clone(), nickname: b.clone(), avatar: avatar.clone() },
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
        round_trip(Whoami { token: a.as_str().into() }, Identity { user, username: b.clone() });
        round_trip(LogoutEverywhere { token: a.as_str().into() }, ());
        let history = History {
            sign_ins: vec![SignInRow { at_ms: t, ip: a.clone(), country: b.clone(), city: c.clone(), browser: d.clone(), platform: a.clone(), result: b.clone(), warnings: n }; 3],
            sessions: vec![SessionRow { id: t, created_ms: t, last_seen_ms: t, ip: a.clone(), country: b.clone(), city: c.clone(), browser: d.clone(), platform: a.clone(), current: n % 2 == 0 }; 2],
            identities: vec![IdentityRow { id: t, provider: a.clone(), email: b.clone(), linked_ms: t, made_account: n % 2 == 1 }],
        };
        round_trip(SecurityOverview { token: a.as_str().into() }, history.clone());
        round_trip(EndSession { token: a.as_str().into(), session: t }, ());
        let actor = Actor { token: a.as_str().into(), ip: b.clone() };
        round_trip(
            AdminOverview { actor: actor.clone() },
            Console { permissions: vec![a.clone(), b.clone()], roles: vec![RoleRow { name: c.clone(), description: d.clone(), builtin: true, permissions: vec![a.clone()] }] },
        );
        let row = UserRow { user, username: a.clone(), nickname: b.clone(), email: avatar.clone(), created_ms: t, locked: n % 3 == 0 };
        round_trip(AdminFindUsers { actor: actor.clone(), query: c.clone() }, FoundUsers { users: vec![row.clone(); 2] });
        round_trip(AdminUser { actor: actor.clone(), user }, UserDetail { user: row, roles: vec![d.clone()], history, all_roles: vec![a.clone(), b.clone()], caller_permissions: vec![c.clone()] });
        round_trip(AdminLock { actor: actor.clone(), user, locked: n % 2 == 1 }, ());
        round_trip(AdminEndSessions { actor: actor.clone(), user, session: t }, ());
        round_trip(AdminSetRole { actor: actor.clone(), user, role: c.clone(), grant: true }, ());
        round_trip(
            AdminAudit { actor: actor.clone(), before: t },
            AuditPage { entries: vec![AuditRow { id: t, at_ms: t, actor: a.clone(), action: b.clone(), target: c.clone(), detail: d.clone(), ip: a.clone() }] },
        );
        round_trip(
            AdminInsight { actor, hours: n, hour: t },
            Insight {
                hours: n,
                from_hour: t,
                hour: t,
                usernames: vec![UsernameRow { username: a.clone(), attempts: n, successes: n, addresses: n }],
                failing_addresses: vec![AddressRow { ip: b.clone(), attempts: n, failures: n, usernames: n }],
                stuffing_addresses: vec![],
                stuffed_usernames: vec![UsernameRow { username: c.clone(), attempts: 1, successes: 0, addresses: n }],
                dimensions: vec![DimensionRow { dimension: d.clone(), value: a.clone(), signins: n }],
                by_hour: vec![HourRow { hour: t, attempts: n, successes: n }],
                session_lengths: vec![SessionLengthRow { bucket_s: n, sessions: n, seconds: t }],
            },
        );
    }

    #[test]
    fn every_oidc_operation_round_trips(
        a in ".{0,40}", b in ".{0,40}", c in ".{0,40}", d in ".{0,40}",
        n in any::<u32>(), t in any::<u64>(), flag in any::<bool>(),
        email in proptest::option::of(".{0,20}"),
    ) {
        round_trip(OidcMetadata, ProviderMetadata { issuer: a.clone(), jwks: b.clone() });
        let authorize = OidcAuthorize {
            token: a.as_str().into(), client_id: b.clone(), redirect_uri: c.clone(), scope: d.clone(),
            nonce: a.clone(), code_challenge: b.clone(), code_challenge_method: c.clone(), prompt: n, approved: flag,
        };
        round_trip(authorize.clone(), Authorization::Code(d.as_str().into()));
        round_trip(authorize, Authorization::Consent { client_name: a.clone(), scope: b.clone() });
        round_trip(
            OidcToken {
                client_id: a.clone(), client_secret: b.as_str().into(), grant_type: c.clone(), code: d.as_str().into(),
                redirect_uri: a.clone(), code_verifier: b.as_str().into(), refresh_token: c.as_str().into(), scope: d.clone(),
            },
            Tokens { access_token: a.as_str().into(), expires_in: n, id_token: b.as_str().into(), refresh_token: c.as_str().into(), scope: d.clone() },
        );
        round_trip(
            OidcUserinfo { access_token: a.as_str().into() },
            UserClaims { sub: a.clone(), scope: b.clone(), username: c.clone(), nickname: d.clone(), updated_at: t, email: email.clone(), avatar: email.clone() },
        );
        let introspect = OidcIntrospect { client_id: a.clone(), client_secret: b.as_str().into(), token: c.as_str().into() };
        round_trip(introspect.clone(), Introspection::default());
        round_trip(
            introspect,
            Introspection { active: true, scope: a.clone(), client_id: b.clone(), sub: c.clone(), username: d.clone(), token_type: a.clone(), iat: t, exp: t },
        );
        round_trip(OidcRevoke { client_id: a.clone(), client_secret: b.as_str().into(), token: c.as_str().into() }, ());
        round_trip(
            OidcLogout { token: a.as_str().into(), id_token_hint: b.as_str().into(), client_id: c.clone(), post_logout_redirect_uri: d.clone(), confirmed: flag },
            LoggedOut { ended: !flag, redirect: a.clone() },
        );
        round_trip(
            SsoStart { provider: a.clone(), token: b.as_str().into(), next: c.clone() },
            SsoRedirect { url: d.clone(), state: a.as_str().into() },
        );
        round_trip(
            SsoFinish { provider: a.clone(), state: b.as_str().into(), code: c.as_str().into(), ip: d.clone(), agent: a.clone(), device: b.clone() },
            SsoFinished { outcome: n, token: a.as_str().into(), username: b.clone(), next: c.clone(), warnings: n },
        );
        round_trip(SsoUnlink { token: a.as_str().into(), identity: t }, ());
    }

    #[test]
    fn a_list_count_the_body_cannot_hold_is_a_typed_error(count in any::<u32>(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut raw = Vec::new();
        throng_core::proto::FieldWriter::new(&mut raw).u32(count);
        raw.extend_from_slice(&body);
        // Whatever the count claims, decoding ends: an answer or an error.
        let _ = decode_answer::<AdminAudit>(Status::Ok.into(), &raw);
        let _ = decode_answer::<AdminFindUsers>(Status::Ok.into(), &raw);
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
        let _ = decode_answer::<AdminInsight>(status, &body);
        let _ = decode_answer::<SecurityOverview>(status, &body);
        let _ = decode_answer::<AdminUser>(status, &body);
        let _ = decode_answer::<OidcAuthorize>(status, &body);
        let _ = decode_answer::<OidcToken>(status, &body);
        let _ = decode_answer::<OidcIntrospect>(status, &body);
        let _ = decode_answer::<OidcUserinfo>(status, &body);
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
        device: String::new(),
        referrer: String::new(),
        link: Default::default(),
    };
    let text = format!("{op:?}");
    assert!(
        !text.contains("hunter22") && text.contains("[redacted]"),
        "{text}"
    );
}
