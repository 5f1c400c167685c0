//! The argon2 pool: CPU threads that only hash and verify, so argon2 never
//! runs on a reactor or holds a storage worker. A worker submits a task with
//! its job; the result comes back to the workers as a [`Resumed`] through a
//! bounded channel. A full task queue answers `busy` at once.
//!
//! Two lanes, so that making hashes (sign-ups, resets: anyone can ask for
//! them) never starves verifying them (sign-ins): each lane has its own
//! bounded queue; only `hash_threads` of the threads take hashing tasks at
//! all, and those take a waiting verification first. The other threads
//! only verify. A flood of sign-ups fills its own short queue and is
//! answered `busy`, while sign-ins keep at least the verify-only threads
//! and first claim on the rest.

use crate::ops::{Job, Secret};
use crate::password::Passwords;
use crate::store::User;
use crossbeam_channel::{select, Receiver, Sender, TrySendError};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// What to do once a new hash exists.
#[derive(Debug)]
pub enum AfterHash {
    /// Create the account (sign-up and register).
    Create { email: Option<String> },
    /// Replace the password of this user (reset).
    Reset { user: Box<User> },
}

pub enum Task {
    Verify {
        job: Job,
        user: Box<User>,
        password: Secret,
    },
    Hash {
        job: Job,
        password: Secret,
        then: AfterHash,
    },
}

pub enum Resumed {
    Verified {
        job: Job,
        user: Box<User>,
        password: Secret,
        ok: bool,
    },
    Hashed {
        job: Job,
        phc: Result<String, String>,
        then: AfterHash,
    },
}

/// The submitting side, held by every worker.
#[derive(Clone)]
pub struct Hasher {
    verify: Sender<Task>,
    hash: Sender<Task>,
    in_flight: Arc<AtomicUsize>,
}

/// The sizes of the pool.
pub struct PoolSize {
    pub threads: usize,
    /// Threads that may hash (at least 1, at most `threads`).
    pub hash_threads: usize,
    pub verify_queue: usize,
    pub hash_queue: usize,
}

/// The next task for a thread: a waiting verification first; then
/// whichever lane has one (verify only when `hash` is `None`). `None` once
/// the lanes are closed and empty.
fn next_task(verify: &Receiver<Task>, hash: Option<&Receiver<Task>>) -> Option<Task> {
    if let Ok(task) = verify.try_recv() {
        return Some(task);
    }
    let Some(hash) = hash else {
        return verify.recv().ok();
    };
    select! {
        recv(verify) -> task => task.ok().or_else(|| hash.recv().ok()),
        recv(hash) -> task => task.ok().or_else(|| verify.recv().ok()),
    }
}

impl Hasher {
    /// Starts the hashing threads, whose results go to `resumed`.
    pub fn start(
        passwords: Passwords,
        size: PoolSize,
        resumed: Sender<Resumed>,
    ) -> (Hasher, Vec<JoinHandle<()>>) {
        let threads = size.threads.max(1);
        let hash_threads = size.hash_threads.clamp(1, threads);
        let (verify_tx, verify_rx) = crossbeam_channel::bounded::<Task>(size.verify_queue);
        let (hash_tx, hash_rx) = crossbeam_channel::bounded::<Task>(size.hash_queue);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let handles = (0..threads)
            .map(|i| {
                let (verify_rx, resumed, passwords): (Receiver<Task>, _, _) =
                    (verify_rx.clone(), resumed.clone(), passwords.clone());
                let hash_rx = (i < hash_threads).then(|| hash_rx.clone());
                let in_flight = in_flight.clone();
                std::thread::Builder::new()
                    .name(format!("argon2-{i}"))
                    .spawn(move || {
                        while let Some(task) = next_task(&verify_rx, hash_rx.as_ref()) {
                            // A task that panics answers its job `internal`
                            // (the job's drop does) and the thread goes on,
                            // so the pool keeps its size.
                            let run = || match task {
                                Task::Verify {
                                    job,
                                    user,
                                    password,
                                } => {
                                    // Workers load the hash before they
                                    // submit; without one nothing matches.
                                    let ok = user.pwhash.as_deref().is_some_and(|hash| {
                                        passwords.verify(password.as_str(), hash)
                                    });
                                    Resumed::Verified {
                                        job,
                                        user,
                                        password,
                                        ok,
                                    }
                                }
                                Task::Hash {
                                    job,
                                    password,
                                    then,
                                } => Resumed::Hashed {
                                    job,
                                    phc: passwords.hash(password.as_str()),
                                    then,
                                },
                            };
                            match catch_unwind(AssertUnwindSafe(run)) {
                                Ok(out) => {
                                    if resumed.send(out).is_err() {
                                        return;
                                    }
                                }
                                // No result will come for it: not in flight.
                                Err(_) => {
                                    in_flight.fetch_sub(1, Ordering::AcqRel);
                                }
                            }
                        }
                    })
                    .expect("spawn an argon2 thread")
            })
            .collect();
        let hasher = Hasher {
            verify: verify_tx,
            hash: hash_tx,
            in_flight,
        };
        (hasher, handles)
    }

    /// Queues a task; gives it back when the queue is full.
    pub fn submit(&self, task: Task) -> Result<(), Box<Task>> {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let lane = match task {
            Task::Verify { .. } => &self.verify,
            Task::Hash { .. } => &self.hash,
        };
        match lane.try_send(task) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(t)) | Err(TrySendError::Disconnected(t)) => {
                self.in_flight.fetch_sub(1, Ordering::AcqRel);
                Err(Box::new(t))
            }
        }
    }

    /// A worker took a result back.
    pub fn done(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    /// Tasks submitted whose results were not taken yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }
}

impl Task {
    /// The job, to answer `busy` when the queue refused the task.
    pub fn into_job(self) -> Job {
        match self {
            Task::Verify { job, .. } | Task::Hash { job, .. } => job,
        }
    }
}
