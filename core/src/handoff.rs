//! Cross-thread hand-off: worker threads return results to the reactor that
//! owns the connection through a bounded `crossbeam` channel and a
//! `mio::Waker`.
//!
//! Wake-ups are coalesced: a sender wakes the reactor only when the reactor
//! has drained since the last wake, so a burst of a thousand results costs one
//! eventfd write, not a thousand.
//!
//! Why no result is ever stranded, by this module's own orderings (not by
//! whatever fences the channel happens to issue): both sides change the
//! `wake_pending` flag with a read-modify-write, so all those changes form
//! one total order. The receiver's `swap(false, AcqRel)` happens before its
//! `try_recv`s (acquire keeps them after it). A sender pushes, then does
//! `swap(true, AcqRel)`. If the sender's swap comes after the receiver's in
//! that order, it reads `false` and wakes the reactor. If it comes before,
//! the receiver's swap reads the value it wrote (or a later one), so the
//! sender's release synchronises with the receiver's acquire: the push
//! happens before the receiver's `try_recv`, which therefore sees it. A
//! plain `store(false)` followed by loads would allow neither argument
//! (a store-load pair may be reordered).

use crossbeam_channel::{Receiver, Sender, TrySendError};
use mio::Waker;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

struct Shared {
    waker: Arc<Waker>,
    wake_pending: AtomicBool,
}

/// The sending half, cloned into worker threads.
pub struct ReplySender<T> {
    tx: Sender<T>,
    shared: Arc<Shared>,
}

impl<T> Clone for ReplySender<T> {
    fn clone(&self) -> Self {
        ReplySender {
            tx: self.tx.clone(),
            shared: self.shared.clone(),
        }
    }
}

/// The receiving half, owned by the reactor.
pub struct ReplyReceiver<T> {
    rx: Receiver<T>,
    shared: Arc<Shared>,
}

/// Why a reply could not be delivered.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("the reactor has stopped")]
    Disconnected,
    #[error("the reply queue is full")]
    Full,
}

/// A bounded reply channel for one reactor. The bound should be at least the
/// number of jobs that reactor can have in flight (its job queues are bounded
/// too), so a worker never waits on a full reply queue in practice.
pub fn reply_channel<T>(capacity: usize, waker: Arc<Waker>) -> (ReplySender<T>, ReplyReceiver<T>) {
    let (tx, rx) = crossbeam_channel::bounded(capacity);
    let shared = Arc::new(Shared {
        waker,
        wake_pending: AtomicBool::new(false),
    });
    (
        ReplySender {
            tx,
            shared: shared.clone(),
        },
        ReplyReceiver { rx, shared },
    )
}

impl<T> ReplySender<T> {
    /// Delivers a result, waiting while the queue is full: a finished result
    /// is never dropped for lack of room.
    pub fn send(&self, value: T) -> Result<(), SendError> {
        self.tx.send(value).map_err(|_| SendError::Disconnected)?;
        self.wake();
        Ok(())
    }

    /// Delivers a result if there is room right now.
    pub fn try_send(&self, value: T) -> Result<(), (SendError, T)> {
        match self.tx.try_send(value) {
            Ok(()) => {
                self.wake();
                Ok(())
            }
            Err(TrySendError::Full(v)) => Err((SendError::Full, v)),
            Err(TrySendError::Disconnected(v)) => Err((SendError::Disconnected, v)),
        }
    }

    fn wake(&self) {
        if !self.shared.wake_pending.swap(true, Ordering::AcqRel) {
            // A failed wake means the poll is gone, i.e. the reactor exited;
            // the message then dies with the channel, which is what we want.
            let _ = self.shared.waker.wake();
        }
    }
}

impl<T> ReplyReceiver<T> {
    /// Takes everything queued. Clears the wake flag first, so a result sent
    /// while draining triggers a fresh wake rather than being stranded.
    pub fn drain(&self, mut each: impl FnMut(T)) {
        // A read-modify-write, not a store: see the module comment.
        self.shared.wake_pending.swap(false, Ordering::AcqRel);
        while let Ok(v) = self.rx.try_recv() {
            each(v);
        }
    }
}
