//! The argon2 pool: CPU threads that only hash and verify, so argon2 never
//! runs on a reactor or holds a storage worker. A worker submits a task with
//! its job; the result comes back to the workers as a [`Resumed`] through a
//! bounded channel. A full task queue answers `busy` at once.

use crate::ops::{Job, Secret};
use crate::password::Passwords;
use crate::store::User;
use crossbeam_channel::{Receiver, Sender, TrySendError};
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
    tx: Sender<Task>,
    in_flight: Arc<AtomicUsize>,
}

impl Hasher {
    /// Starts `threads` hashing threads whose results go to `resumed`.
    pub fn start(
        passwords: Passwords,
        threads: usize,
        queue: usize,
        resumed: Sender<Resumed>,
    ) -> (Hasher, Vec<JoinHandle<()>>) {
        let (tx, rx) = crossbeam_channel::bounded::<Task>(queue);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let handles = (0..threads.max(1))
            .map(|i| {
                let (rx, resumed, passwords): (Receiver<Task>, _, _) =
                    (rx.clone(), resumed.clone(), passwords.clone());
                let in_flight = in_flight.clone();
                std::thread::Builder::new()
                    .name(format!("argon2-{i}"))
                    .spawn(move || {
                        for task in rx {
                            // A task that panics answers its job `internal`
                            // (the job's drop does) and the thread goes on,
                            // so the pool keeps its size.
                            let run = || match task {
                                Task::Verify {
                                    job,
                                    user,
                                    password,
                                } => {
                                    let ok = passwords.verify(password.as_str(), &user.pwhash);
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
        (Hasher { tx, in_flight }, handles)
    }

    /// Queues a task; gives it back when the queue is full.
    pub fn submit(&self, task: Task) -> Result<(), Box<Task>> {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        match self.tx.try_send(task) {
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
