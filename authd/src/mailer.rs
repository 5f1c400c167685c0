//! Delivers verification codes, and notices of what changed on an account
//! (a password reset): by SMTP to the configured relay, or —
//! without one — as a line of JSON appended to the outbox file under the
//! data dir, which developers and tests read. Never to the log. Mail goes
//! out on its own thread, so an answer never waits for SMTP (and a
//! check-account answer takes as long whether or not a mail was sent).

use crate::config::MailConfig;
use crossbeam_channel::Sender;
use std::io::Write;
use std::path::PathBuf;
use std::thread::JoinHandle;

/// One mail: a code, or (`code: None`) a notice about the account.
pub struct Mail {
    pub to: String,
    pub purpose: &'static str,
    pub code: Option<String>,
    /// What a notice says beyond its purpose's text (the where and when of
    /// an unusual sign-in); never a secret.
    pub detail: Option<String>,
}

/// What the mail of `purpose` (a notice) says.
fn notice_text(purpose: &str, detail: Option<&str>) -> String {
    let mut text = match purpose {
        "password changed" => "The password of your Throng account was just changed, and every session of the account was ended. If you did not do this, reset your password now: someone else knows a code sent to this address.\n".to_owned(),
        "unusual sign-in" => "Someone signed in to your Throng account in a way it has not been used before. If it was you, there is nothing to do. If not, sign out that session on your security page (/security) and reset your password.\n".to_owned(),
        other => format!("Something changed on your Throng account: {other}.\n"),
    };
    if let Some(detail) = detail {
        text.push('\n');
        text.push_str(detail);
        text.push('\n');
    }
    text
}

enum Transport {
    Smtp(lettre::SmtpTransport),
    Outbox(PathBuf),
}

/// Starts the mail thread; mail queued beyond 1,024 is refused (the caller
/// answers busy).
/// The outbox is for development and tests (refused in production, see
/// `lib.rs` `production_checks`); its directory is made 0700.
pub fn start(cfg: &MailConfig) -> Result<(Sender<Mail>, JoinHandle<()>), String> {
    let transport = if cfg.smtp_relay.is_empty() {
        if let Some(dir) = cfg.outbox.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| format!("outbox {}: {e}", dir.display()))?;
            }
        }
        Transport::Outbox(cfg.outbox.clone())
    } else {
        let (host, port) = cfg
            .smtp_relay
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
            .ok_or_else(|| format!("mail.smtp_relay {:?}: expected host:port", cfg.smtp_relay))?;
        Transport::Smtp(
            lettre::SmtpTransport::builder_dangerous(host)
                .port(port)
                .build(),
        )
    };
    let from: lettre::message::Mailbox = cfg.from.parse().map_err(|e| format!("mail.from: {e}"))?;
    let (tx, rx) = crossbeam_channel::bounded::<Mail>(1024);
    let handle = std::thread::Builder::new()
        .name("mailer".into())
        .spawn(move || {
            for mail in rx {
                // A delivery that panics costs that mail, not the mailer.
                let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    deliver(&transport, &from, &mail)
                }));
                match sent {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => log::warn!("could not deliver a {} mail: {e}", mail.purpose),
                    Err(_) => log::error!("delivering a {} mail panicked", mail.purpose),
                }
            }
        })
        .map_err(|e| e.to_string())?;
    Ok((tx, handle))
}

fn deliver(
    transport: &Transport,
    from: &lettre::message::Mailbox,
    mail: &Mail,
) -> Result<(), String> {
    match transport {
        Transport::Outbox(path) => {
            let mut line = serde_json::json!({
                "at_ms": crate::records::now_ms(),
                "to": mail.to,
                "purpose": mail.purpose,
                "code": mail.code,
                "text": mail.code.is_none().then(|| notice_text(mail.purpose, mail.detail.as_deref())),
            })
            .to_string();
            line.push('\n');
            // Codes are secrets: only authd's own user may read them (a
            // file created before keeps its mode; tightened here too).
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| e.to_string())?;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| e.to_string())?;
            file.write_all(line.as_bytes()).map_err(|e| e.to_string())
        }
        Transport::Smtp(smtp) => {
            use lettre::Transport as _;
            let builder = lettre::Message::builder()
                .from(from.clone())
                .to(mail.to.parse().map_err(|e| format!("{e}"))?);
            let message = match &mail.code {
                Some(code) => builder
                    .subject(format!("Your Throng {} code", mail.purpose))
                    .body(format!(
                        "Your code is {code}. It expires in a few minutes. If you did not ask for it, ignore this mail.\n"
                    )),
                None => builder
                    .subject(format!("Throng: {}", mail.purpose))
                    .body(notice_text(mail.purpose, mail.detail.as_deref())),
            }
            .map_err(|e| e.to_string())?;
            smtp.send(&message).map(|_| ()).map_err(|e| e.to_string())
        }
    }
}
