//! Bytes in and out of a link: UPDATEs batched into one write, partial
//! writes kept for when the socket drains, reads into the thread's buffer,
//! and the check of every answer against the link's own count.

use super::{Fleet, Link, State};
use crate::client::wire::{self, Answer};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Fleet {
    pub(super) fn quota_reached(&self, link: &Link) -> bool {
        self.plan
            .quota
            .is_some_and(|q| link.answered + link.sent_at.len() as u64 >= q)
    }

    pub(super) fn send_update(&mut self, key: u32, now: Instant) {
        self.send_updates(key, 1, now);
    }

    /// Sends up to `n` UPDATEs in one write: a pipelined connection that
    /// got several answers in one read replaces them with one syscall.
    pub(super) fn send_updates(&mut self, key: u32, n: u32, now: Instant) {
        let micros = self.micros(now);
        let stopping = self.stop.load(Ordering::Relaxed);
        let mut batch = std::mem::take(&mut self.scratch);
        batch.clear();
        for _ in 0..n {
            let link = &self.links[key as usize];
            if link.state != State::Ready || stopping || self.quota_reached(link) {
                break;
            }
            let link = &mut self.links[key as usize];
            link.sent_at.push_back(micros);
            batch.extend_from_slice(&link.request);
        }
        if !batch.is_empty() {
            self.write(key, &batch, now);
        }
        self.scratch = batch;
    }

    /// Writes at once; what the socket does not take waits for writable.
    pub(super) fn write(&mut self, key: u32, bytes: &[u8], now: Instant) {
        let link = &mut self.links[key as usize];
        if !link.pending_out.is_empty() {
            link.pending_out.extend_from_slice(bytes);
            return;
        }
        let Some(stream) = link.stream.as_mut() else {
            return;
        };
        match stream.write(bytes) {
            Ok(n) if n == bytes.len() => {}
            // The rest goes when the socket says it is writable again (it
            // is registered for both for its whole life).
            Ok(n) => link.pending_out.extend_from_slice(&bytes[n..]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                link.pending_out.extend_from_slice(bytes)
            }
            Err(_) => self.lost(key, now),
        }
    }

    pub(super) fn flush(&mut self, key: u32, now: Instant) {
        let link = &mut self.links[key as usize];
        let Some(stream) = link.stream.as_mut() else {
            return;
        };
        while !link.pending_out.is_empty() {
            match stream.write(&link.pending_out) {
                Ok(n) => {
                    link.pending_out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.lost(key, now);
                    return;
                }
            }
        }
        link.pending_out = Vec::new();
    }

    pub(super) fn read(&mut self, key: u32, now: Instant) {
        let mut buf = std::mem::take(&mut self.read_buf);
        self.read_into(key, &mut buf, now);
        self.read_buf = buf;
    }

    pub(super) fn read_into(&mut self, key: u32, buf: &mut [u8], now: Instant) {
        loop {
            let link = &mut self.links[key as usize];
            let Some(stream) = link.stream.as_mut() else {
                return;
            };
            match stream.read(buf) {
                Ok(0) => {
                    self.lost(key, now);
                    return;
                }
                Ok(n) => {
                    let leftover = std::mem::take(&mut link.leftover);
                    let open = if leftover.is_empty() {
                        self.answers(key, &buf[..n], now)
                    } else {
                        let mut joined = leftover;
                        joined.extend_from_slice(&buf[..n]);
                        self.answers(key, &joined, now)
                    };
                    // A short read proves the socket empty.
                    if !open || n < buf.len() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.lost(key, now);
                    return;
                }
            }
        }
    }

    /// Handles every whole answer in `bytes`, keeping a partial one for
    /// later; false when the link was closed on the way.
    pub(super) fn answers(&mut self, key: u32, bytes: &[u8], now: Instant) -> bool {
        self.owed = 0;
        let mut used = 0;
        while used < bytes.len() {
            match wire::parse(self.plan.wire, &bytes[used..]) {
                Ok(None) => break,
                Ok(Some((answer, n))) => {
                    used += n;
                    if !self.answer(key, answer, now) {
                        return false;
                    }
                }
                Err(e) => {
                    log::warn!("closing a connection to {}: {e}", self.target_of(key));
                    self.counters().errors.fetch_add(1, Ordering::Relaxed);
                    self.lost(key, now);
                    return false;
                }
            }
        }
        if used < bytes.len() {
            self.links[key as usize].leftover = bytes[used..].to_vec();
        }
        if self.owed > 0 {
            self.send_updates(key, self.owed, now);
        }
        true
    }

    pub(super) fn target_of(&self, key: u32) -> SocketAddr {
        self.plan.targets[self.links[key as usize].target as usize]
    }

    pub(super) fn answer(&mut self, key: u32, answer: Answer, now: Instant) -> bool {
        match answer {
            Answer::Counter(value) => {
                let micros = self.micros(now);
                let link = &mut self.links[key as usize];
                let Some(sent) = link.sent_at.pop_front() else {
                    self.counters().errors.fetch_add(1, Ordering::Relaxed);
                    log::warn!("an answer nobody asked for from {}", self.target_of(key));
                    self.lost(key, now);
                    return false;
                };
                let expected = link.last_value + 1;
                link.last_value = value;
                link.answered += 1;
                let quota_done = self.plan.quota.is_some_and(|q| link.answered >= q);
                let _ = self
                    .latency
                    .record(u64::from(micros.wrapping_sub(sent)).max(1));
                let counters = &self.tally.threads[self.index];
                counters.updates.fetch_add(1, Ordering::Relaxed);
                if value < expected {
                    counters.lost.fetch_add(expected - value, Ordering::Relaxed);
                } else if value > expected {
                    counters
                        .doubled
                        .fetch_add(value - expected, Ordering::Relaxed);
                }
                if quota_done {
                    let link = &mut self.links[key as usize];
                    if link.state == State::Ready {
                        link.state = State::Done;
                        self.done += 1;
                    }
                } else if self.plan.interval.is_none() {
                    self.owed += 1;
                }
                true
            }
            Answer::Admitted => {
                if self.links[key as usize].state == State::Admitting {
                    self.ready(key, now);
                }
                true
            }
            Answer::Refused(text) => {
                log::warn!("{} refused: {text}", self.target_of(key));
                self.counters().errors.fetch_add(1, Ordering::Relaxed);
                self.lost(key, now);
                false
            }
        }
    }

    /// The connection is gone: count it and come back after the backoff.
    pub(super) fn lost(&mut self, key: u32, now: Instant) {
        let link = &self.links[key as usize];
        if link.stream.is_none() {
            return;
        }
        let counters = &self.tally.threads[self.index];
        counters.disconnects.fetch_add(1, Ordering::Relaxed);
        counters
            .unanswered
            .fetch_add(link.sent_at.len() as u64, Ordering::Relaxed);
        let was_done = link.state == State::Done;
        self.close(key);
        if !was_done && !self.stop.load(Ordering::Relaxed) {
            self.retry_later(key, now);
        }
    }

    /// Closes the link's socket, keeping its final count when recording.
    pub(super) fn close(&mut self, key: u32) {
        let link = &mut self.links[key as usize];
        let connected = link.stream.is_some() && matches!(link.state, State::Ready | State::Done);
        if connected {
            self.tally.threads[self.index]
                .up
                .fetch_sub(1, Ordering::Relaxed);
        }
        if let Some(mut stream) = link.stream.take() {
            let _ = self.poll.registry().deregister(&mut stream);
        }
        if let Some(local) = link.local.take() {
            if self.plan.record {
                let server = self.plan.targets[link.target as usize];
                self.records.push((local, server, link.last_value));
            }
        }
        if link.state != State::Done {
            link.state = State::Waiting;
        }
        link.sent_at.clear();
        link.pending_out = Vec::new();
        link.leftover = Vec::new();
    }
}
