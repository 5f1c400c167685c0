//! Starts a daemon's reactors: one thread per reactor, each with its own
//! `Poll`, waker, reply queue and `SO_REUSEPORT` listeners, all bound before
//! any thread starts so a bind error is reported to the caller at once.
//!
//! A reactor contains the panics of its service's callbacks, so a reactor
//! thread ends early only through a bug in the reactor itself or an I/O
//! error of its poll. Then its listeners are gone and its connections with
//! them: a daemon in that state must not limp on with fewer listeners, so
//! [`OnReactorDeath::ExitProcess`] (what daemons use) ends the process at
//! once with a non-zero code and systemd or `make up` starts a whole new
//! one. In-process servers (tests, tools) stop their other reactors instead.

use crate::handoff::{reply_channel, ReplySender};
use crate::listener::steered_listener;
use crate::metrics::{Metrics, ReactorMetrics};
use crate::reactor::event_loop::Shared;
use crate::reactor::spares::Spares;
use crate::reactor::{CpuPlan, PerIpLimit, Reactive, Reactor, ReactorConfig};
use mio::{Poll, Token, Waker};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// What happens when a reactor thread ends before shutdown asked it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnReactorDeath {
    /// Stop the other reactors gracefully and report the error from `join`.
    StopServer,
    /// Log and exit the process with status 70 (EX_SOFTWARE) at once.
    ExitProcess,
}

/// The exit status of a daemon whose reactor died.
pub const REACTOR_DEATH_EXIT: i32 = 70;

/// What a service factory gets to build one reactor's service.
pub struct ReactorSetup<R> {
    /// Which reactor (0-based).
    pub index: usize,
    /// The sender workers use to return results to this reactor.
    pub replies: ReplySender<R>,
}

/// Stops a running server: stop accepting, drain, exit. Cloneable and
/// cheap, so a signal thread and tests can each hold one.
#[derive(Clone)]
pub struct ShutdownTrigger {
    shared: Arc<Shared>,
    wakers: Vec<Arc<Waker>>,
}

impl ShutdownTrigger {
    pub fn shutdown(&self) {
        self.shared.stop.store(true, Ordering::Release);
        for waker in &self.wakers {
            let _ = waker.wake();
        }
    }

    pub fn is_stopping(&self) -> bool {
        self.shared.stop.load(Ordering::Acquire)
    }

    /// Connections open across all reactors right now.
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::Acquire)
    }
}

/// A running server.
pub struct ServerHandle {
    trigger: ShutdownTrigger,
    threads: Vec<JoinHandle<io::Result<()>>>,
    local_addrs: Vec<SocketAddr>,
}

impl ServerHandle {
    /// The bound addresses, in `listen` order (port 0 resolved).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    pub fn trigger(&self) -> ShutdownTrigger {
        self.trigger.clone()
    }

    pub fn shutdown(&self) {
        self.trigger.shutdown();
    }

    /// Waits for every reactor to finish; the first error wins.
    pub fn join(self) -> io::Result<()> {
        let mut result = Ok(());
        for thread in self.threads {
            let outcome = thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("a reactor thread panicked")));
            if let Err(e) = outcome {
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
        result
    }
}

/// Binds every listener and starts `config.thread_count()` reactors, each
/// running the service `make` builds for it; a reactor that dies stops
/// the others ([`OnReactorDeath::StopServer`]).
pub fn start<S, F>(config: &ReactorConfig, metrics: &Metrics, make: F) -> io::Result<ServerHandle>
where
    S: Reactive,
    F: Fn(ReactorSetup<S::Reply>) -> S + Send + Sync + 'static,
{
    start_with(config, metrics, OnReactorDeath::StopServer, make)
}

/// [`start`] with a choice of what a reactor's death does.
pub fn start_with<S, F>(
    config: &ReactorConfig,
    metrics: &Metrics,
    on_death: OnReactorDeath,
    make: F,
) -> io::Result<ServerHandle>
where
    S: Reactive,
    F: Fn(ReactorSetup<S::Reply>) -> S + Send + Sync + 'static,
{
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        open: AtomicUsize::new(0),
        per_ip: PerIpLimit::new(config.max_connections_per_ip),
        spares: Spares::new(config.thread_count()),
        metrics: ReactorMetrics::new(metrics),
    });
    let threads = config.thread_count();
    let mut local_addrs: Vec<SocketAddr> = config.listen.clone();
    let mut parts = Vec::with_capacity(threads);
    let cpus = CpuPlan::new(&config.placement);
    for index in 0..threads {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(
            poll.registry(),
            Token(crate::reactor::WAKER_TOKEN),
        )?);
        let mut listeners = Vec::with_capacity(local_addrs.len());
        for addr in local_addrs.iter_mut() {
            let listener = steered_listener(*addr, config.backlog, cpus.listener_cpu(index))?;
            // Port 0: the first reactor's bind picks the port, the rest share it.
            *addr = listener.local_addr()?;
            listeners.push((listener, *addr));
        }
        parts.push((poll, waker, listeners));
    }
    let trigger = ShutdownTrigger {
        shared: shared.clone(),
        wakers: parts.iter().map(|(_, w, _)| w.clone()).collect(),
    };
    let make = Arc::new(make);
    let mut handles = Vec::with_capacity(threads);
    for (index, (poll, waker, listeners)) in parts.into_iter().enumerate() {
        let (replies_tx, replies_rx) = reply_channel(config.reply_queue, waker);
        let make = make.clone();
        let config = config.clone();
        let shared = shared.clone();
        let on_exit = trigger.clone();
        let cpus = cpus.clone();
        let handle = std::thread::Builder::new()
            .name(format!("reactor-{index}"))
            .spawn(move || {
                cpus.pin_current(index);
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let service = make(ReactorSetup {
                        index,
                        replies: replies_tx,
                    });
                    Reactor::new(index, poll, listeners, service, replies_rx, config, shared)
                        .and_then(Reactor::run)
                }));
                let result =
                    run.unwrap_or_else(|_| Err(io::Error::other("the reactor thread panicked")));
                if let Err(e) = &result {
                    if on_death == OnReactorDeath::ExitProcess {
                        log::error!(
                            "reactor {index} died: {e}; exiting ({REACTOR_DEATH_EXIT}) so that \
                             the supervisor starts a whole process"
                        );
                        log::logger().flush();
                        std::process::exit(REACTOR_DEATH_EXIT);
                    }
                    log::error!("reactor {index} failed: {e}; stopping the others");
                    on_exit.shutdown();
                }
                result
            })?;
        handles.push(handle);
    }
    Ok(ServerHandle {
        trigger,
        threads: handles,
        local_addrs,
    })
}
