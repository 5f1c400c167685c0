//! What the client fleet writes and how it reads the answers, for massd's
//! own frames and for Redis (RESP `INCR`), so the two servers are driven
//! by exactly the same client and checked the same way.

use crate::config::Wire;
use crate::proto::{self, Op, Status};

/// A decoded answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The counter after an UPDATE (or INCR).
    Counter(u64),
    /// HELLO (or AUTH) accepted.
    Admitted,
    /// The server refused; the text says why.
    Refused(String),
}

/// Longest RESP line the client accepts before calling it garbage.
const MAX_LINE: usize = 512;

/// The request that increments this connection's counter.
pub fn update_request(wire: Wire, key: &str) -> Vec<u8> {
    match wire {
        Wire::Massd => proto::UPDATE_REQUEST.to_vec(),
        Wire::Resp => resp_command(&["INCR", key]),
    }
}

/// The admission request (HELLO with a token, or Redis AUTH).
pub fn hello_request(wire: Wire, secret: &str) -> Vec<u8> {
    match wire {
        Wire::Massd => {
            let mut out = Vec::new();
            proto::encode(&mut out, Op::Hello as u8, Status::Ok, secret.as_bytes());
            out
        }
        Wire::Resp => resp_command(&["AUTH", secret]),
    }
}

fn resp_command(parts: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Decodes one answer from the front of `input`: `Ok(None)` when more
/// bytes are needed; an error names what was wrong with the stream.
pub fn parse(wire: Wire, input: &[u8]) -> Result<Option<(Answer, usize)>, String> {
    match wire {
        Wire::Massd => parse_massd(input),
        Wire::Resp => parse_resp(input),
    }
}

fn parse_massd(input: &[u8]) -> Result<Option<(Answer, usize)>, String> {
    let Some((frame, used)) = proto::decode(input, 65_537).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    if !frame.response {
        return Err(format!("the server sent a request ({frame})"));
    }
    let answer = match (frame.op, frame.status) {
        (Op::Update, Status::Ok) => Answer::Counter(proto::counter(&frame).unwrap_or(0)),
        (Op::Hello, Status::Ok) => Answer::Admitted,
        (_, status) => Answer::Refused(format!(
            "{}: {}",
            status.name(),
            String::from_utf8_lossy(frame.body)
        )),
    };
    Ok(Some((answer, used)))
}

fn parse_resp(input: &[u8]) -> Result<Option<(Answer, usize)>, String> {
    let Some(end) = input.windows(2).position(|w| w == b"\r\n") else {
        if input.len() > MAX_LINE {
            return Err("a RESP line longer than 512 bytes".into());
        }
        return Ok(None);
    };
    let line = &input[..end];
    let text =
        std::str::from_utf8(line.get(1..).unwrap_or(&[])).map_err(|_| "non-UTF-8 RESP line")?;
    let answer = match line.first() {
        Some(b':') => Answer::Counter(text.parse().map_err(|_| format!("bad integer {text:?}"))?),
        Some(b'+') => Answer::Admitted,
        Some(b'-') => Answer::Refused(text.to_owned()),
        _ => {
            return Err(format!(
                "unexpected RESP answer {:?}",
                String::from_utf8_lossy(line)
            ))
        }
    };
    Ok(Some((answer, end + 2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_wires_parse_counters_and_refusals() {
        let mut out = Vec::new();
        proto::encode_counter(&mut out, Op::Update, 7);
        assert_eq!(parse(Wire::Massd, &out), Ok(Some((Answer::Counter(7), 12))));
        assert_eq!(parse(Wire::Massd, &out[..5]), Ok(None));
        assert_eq!(
            parse(Wire::Resp, b":12\r\n+OK"),
            Ok(Some((Answer::Counter(12), 5)))
        );
        assert_eq!(parse(Wire::Resp, b":12"), Ok(None));
        assert!(matches!(
            parse(Wire::Resp, b"-NOAUTH x\r\n"),
            Ok(Some((Answer::Refused(_), 11)))
        ));
        assert!(parse(Wire::Resp, b"$3\r\n").is_err());
        assert_eq!(
            update_request(Wire::Resp, "k1"),
            b"*2\r\n$4\r\nINCR\r\n$2\r\nk1\r\n".to_vec()
        );
    }
}
