//! `resp-ping` and `resp-incr`: Redis as the anchor, spoken in RESP by the
//! same load engine that drives Throng, so a ratio compares servers and not
//! clients. Only the single-line replies these commands produce are read
//! (`+PONG`, `:<n>`, `-ERR …`).

use super::{Answer, StreamError, Workload};
use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespCommand {
    Ping,
    Incr,
}

pub struct RespScenario {
    command: RespCommand,
    password: Option<String>,
}

impl RespScenario {
    pub fn new(command: RespCommand, password: Option<String>) -> Self {
        RespScenario { command, password }
    }
}

fn bulk(out: &mut Vec<u8>, arg: &[u8]) {
    out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
    out.extend_from_slice(arg);
    out.extend_from_slice(b"\r\n");
}

impl Workload for RespScenario {
    fn name(&self) -> &'static str {
        match self.command {
            RespCommand::Ping => "resp-ping",
            RespCommand::Incr => "resp-incr",
        }
    }

    fn default_target(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 16379))
    }

    fn handshake(&self, _conn: usize, out: &mut Vec<u8>) -> usize {
        match &self.password {
            Some(password) => {
                out.extend_from_slice(b"*2\r\n");
                bulk(out, b"AUTH");
                bulk(out, password.as_bytes());
                1
            }
            None => 0,
        }
    }

    fn request(&self, conn: usize, _state: &[u8], _seq: u64, out: &mut Vec<u8>) {
        match self.command {
            RespCommand::Ping => out.extend_from_slice(b"*1\r\n$4\r\nPING\r\n"),
            RespCommand::Incr => {
                out.extend_from_slice(b"*2\r\n");
                bulk(out, b"INCR");
                bulk(out, format!("throng:bench:{conn}").as_bytes());
            }
        }
    }

    fn answer(&self, input: &[u8]) -> Result<Option<(usize, Answer)>, StreamError> {
        let Some(end) = input.windows(2).position(|w| w == b"\r\n") else {
            if input.len() > 4096 {
                return Err(StreamError("RESP line longer than 4096 bytes".into()));
            }
            return Ok(None);
        };
        let line = &input[..end];
        let answer = match (line.first(), self.command) {
            (Some(b'+'), RespCommand::Ping) if line == b"+PONG" => Answer::Ok,
            (Some(b'+'), _) if line == b"+OK" => Answer::Ok, // AUTH
            (Some(b':'), RespCommand::Incr) => Answer::Ok,
            (Some(b'-'), _) => Answer::Failed,
            _ => {
                return Err(StreamError(format!(
                    "unexpected RESP reply {:?}",
                    String::from_utf8_lossy(line)
                )))
            }
        };
        Ok(Some((end + 2, answer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read_line_by_line() {
        let s = RespScenario::new(RespCommand::Incr, None);
        assert_eq!(s.answer(b":41\r\n:4").unwrap(), Some((5, Answer::Ok)));
        assert_eq!(s.answer(b":4").unwrap(), None);
        assert_eq!(s.answer(b"-ERR no\r\n").unwrap(), Some((9, Answer::Failed)));
        assert!(s.answer(b"$3\r\nabc\r\n").is_err());
    }

    #[test]
    fn auth_is_sent_only_with_a_password() {
        let mut out = Vec::new();
        assert_eq!(
            RespScenario::new(RespCommand::Ping, None).handshake(0, &mut out),
            0
        );
        assert_eq!(
            RespScenario::new(RespCommand::Ping, Some("pw".into())).handshake(0, &mut out),
            1
        );
        assert_eq!(out, b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n");
    }
}
