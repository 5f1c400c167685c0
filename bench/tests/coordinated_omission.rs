//! The open loop's coordinated-omission correction against a synthetic
//! server that stalls once: a closed loop hides the stall behind the one
//! request that waited; the open loop charges every request that fell due
//! during it, as wrk2 does.

use bench::load::{self, LoadConfig};
use bench::scenario::{Answer, StreamError, Workload};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One byte out, one byte back.
struct Echo;

impl Workload for Echo {
    fn name(&self) -> &'static str {
        "echo"
    }

    fn default_target(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 0))
    }

    fn request(&self, _: usize, _: &[u8], _: u64, out: &mut Vec<u8>) {
        out.push(b'?');
    }

    fn answer(&self, input: &[u8]) -> Result<Option<(usize, Answer)>, StreamError> {
        Ok((!input.is_empty()).then_some((1, Answer::Ok)))
    }
}

/// Echoes every byte at once, except that it sleeps `stall` once, `after`
/// into the run.
fn stalling_server(after: Duration, stall: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_nodelay(true).unwrap();
        let started = Instant::now();
        let mut stalled = false;
        let mut buf = [0u8; 4096];
        loop {
            let n = match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if !stalled && started.elapsed() >= after {
                stalled = true;
                std::thread::sleep(stall);
            }
            if s.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    });
    addr
}

fn measure(rate: Option<f64>) -> load::Outcome {
    let target = stalling_server(Duration::from_millis(300), Duration::from_millis(400));
    let cfg = LoadConfig {
        target,
        connections: 1,
        duration: Duration::from_millis(1500),
        threads: 1,
        pipeline: 1,
        connect_timeout: Duration::from_secs(5),
        progress: false,
        rate,
    };
    load::run(Arc::new(Echo), &cfg).unwrap()
}

#[test]
fn the_open_loop_charges_a_stall_to_every_request_it_delayed() {
    let closed = measure(None);
    let open = measure(Some(1000.0));
    let p90 = |o: &load::Outcome| o.histogram.value_at_quantile(0.90);
    // Closed loop: one request waited 400 ms; the other ~99 % did not.
    assert!(
        closed.histogram.max() >= 350_000,
        "the stall is seen at all"
    );
    assert!(p90(&closed) < 50_000, "closed p90 {} µs", p90(&closed));
    // Open loop at 1,000/s: ~400 requests fell due during the stall, over
    // a quarter of the run, with latencies from 400 ms down to 0.
    assert!(p90(&open) >= 150_000, "open p90 {} µs", p90(&open));
    assert!(
        open.ops >= 1100,
        "the schedule caught up after the stall: {}",
        open.ops
    );
}
