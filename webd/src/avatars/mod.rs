//! Avatars: uploads are judged by their bytes, decoded and re-encoded to a
//! 256×256 PNG ([`image`]) and staged content-addressed ([`store`]) on a
//! pool of worker threads — never on a reactor; once authd accepted the
//! picture as the account's avatar the pool publishes it, else discards
//! it. Serving reads the store on the same pool. Results return to the
//! reactor that owns the connection.

pub mod image;
pub mod store;
pub mod upload;

use crossbeam_channel::{Sender, TrySendError};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread::JoinHandle;
use store::{AvatarStore, Staged};
use subtle::ConstantTimeEq;
use throng_core::handoff::ReplySender;
use throng_core::reactor::ConnId;

/// Why an upload did not become an avatar; `code` is what the edit page
/// is told (`/edit?error=<code>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadError {
    Expired,
    NotAnImage,
    TooLarge,
    Busy,
    Failed,
    /// The account changed its picture too often (authd's limit).
    TooOften,
}

impl UploadError {
    pub fn code(self) -> &'static str {
        match self {
            UploadError::Expired => "expired",
            UploadError::NotAnImage => "not_image",
            UploadError::TooLarge => "too_large",
            UploadError::Busy => "busy",
            UploadError::Failed => "failed",
            UploadError::TooOften => "too_often",
        }
    }
}

pub enum TaskKind {
    Upload {
        body: Vec<u8>,
        content_type: String,
        /// The CSRF token the form must carry: the session's.
        expected_csrf: String,
        token: String,
        max_bytes: usize,
    },
    Read {
        id: String,
        head_only: bool,
    },
    /// Serve a staged picture authd accepted (`keep`), or drop it.
    Settle {
        staged: Staged,
        keep: bool,
    },
}

pub struct Task {
    pub conn: ConnId,
    pub reply: ReplySender<AvatarReply>,
    pub kind: TaskKind,
}

/// A finished task, back on the reactor.
pub enum AvatarReply {
    Stored {
        conn: ConnId,
        token: String,
        result: Result<Staged, UploadError>,
    },
    /// A staged picture was settled: `keep` as asked (only a kept one
    /// still owes its connection an answer), `ok` whether that worked.
    Settled { conn: ConnId, keep: bool, ok: bool },
    Read {
        conn: ConnId,
        id: String,
        head_only: bool,
        bytes: Option<Vec<u8>>,
    },
    /// The task panicked (a bug, or an image that trips the decoder): the
    /// request is answered 500 and the worker takes the next task.
    Panicked { conn: ConnId },
}

/// The submitting side of the pool.
#[derive(Clone)]
pub struct AvatarPool {
    tx: Sender<Task>,
    /// For settling on the caller's thread when the queue is full.
    store: AvatarStore,
}

impl AvatarPool {
    pub fn start(
        store: AvatarStore,
        threads: usize,
        queue: usize,
    ) -> (AvatarPool, Vec<JoinHandle<()>>) {
        let (tx, rx) = crossbeam_channel::bounded::<Task>(queue.max(1));
        let handles = (0..threads.max(1))
            .map(|i| {
                let (rx, store) = (rx.clone(), store.clone());
                std::thread::Builder::new()
                    .name(format!("avatar-{i}"))
                    .spawn(move || {
                        for task in rx {
                            let conn = task.conn;
                            let work = AssertUnwindSafe(|| run(&store, conn, task.kind));
                            let reply =
                                catch_unwind(work).unwrap_or(AvatarReply::Panicked { conn });
                            let _ = task.reply.send(reply);
                        }
                    })
                    .expect("spawn an avatar worker")
            })
            .collect();
        (AvatarPool { tx, store }, handles)
    }

    /// Settles a staged picture here and now (a rename or an unlink; for
    /// when the queue is full, so that an avatar authd took is never left
    /// staged); whether it worked.
    pub fn settle_now(&self, staged: Staged, keep: bool) -> bool {
        let done = if keep {
            self.store.publish(staged)
        } else {
            self.store.discard(staged)
        };
        done.map_err(|e| log::error!("settling an avatar: {e}"))
            .is_ok()
    }

    /// Queues a task; gives it back when the queue is full.
    pub fn submit(&self, task: Task) -> Result<(), Box<Task>> {
        self.tx.try_send(task).map_err(|e| match e {
            TrySendError::Full(t) | TrySendError::Disconnected(t) => Box::new(t),
        })
    }
}

fn run(store: &AvatarStore, conn: ConnId, kind: TaskKind) -> AvatarReply {
    match kind {
        TaskKind::Settle { staged, keep } => {
            let id = staged.id.clone();
            let done = if keep {
                store.publish(staged)
            } else {
                store.discard(staged)
            };
            if let Err(e) = &done {
                log::error!("settling avatar {id}: {e}");
            }
            AvatarReply::Settled {
                conn,
                keep,
                ok: done.is_ok(),
            }
        }
        TaskKind::Read { id, head_only } => {
            let bytes = store.get(&id).unwrap_or_else(|e| {
                log::error!("reading avatar {id}: {e}");
                None
            });
            AvatarReply::Read {
                conn,
                id,
                head_only,
                bytes,
            }
        }
        TaskKind::Upload {
            body,
            content_type,
            expected_csrf,
            token,
            max_bytes,
        } => {
            let result = process(store, body, &content_type, &expected_csrf, max_bytes);
            AvatarReply::Stored {
                conn,
                token,
                result,
            }
        }
    }
}

fn process(
    store: &AvatarStore,
    body: Vec<u8>,
    content_type: &str,
    expected_csrf: &str,
    max_bytes: usize,
) -> Result<Staged, UploadError> {
    let form = upload::parse(content_type, body).ok_or(UploadError::NotAnImage)?;
    let csrf_ok = expected_csrf.len() == form.csrf.len()
        && bool::from(expected_csrf.as_bytes().ct_eq(form.csrf.as_bytes()));
    if !csrf_ok {
        return Err(UploadError::Expired);
    }
    if form.file.len() > max_bytes {
        return Err(UploadError::TooLarge);
    }
    let png = image::to_avatar(&form.file).map_err(|e| match e {
        image::Refused::NotAnImage => UploadError::NotAnImage,
        image::Refused::TooBig => UploadError::TooLarge,
    })?;
    store.stage(&png).map_err(|e| {
        log::error!("storing an avatar: {e}");
        UploadError::Failed
    })
}
