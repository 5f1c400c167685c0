//! A per-reactor pool of byte buffers.
//!
//! A connection holds a buffer only while bytes are in flight: leftover input
//! of a partial request, or output the socket did not take yet. When the
//! buffer empties it goes back here, so an idle connection owns none and a
//! busy reactor reuses the same few allocations instead of calling malloc per
//! request.
//!
//! The pool is bounded in bytes, not in count. A reactor writes every answer
//! of one wake-up together, so a full wake-up (1,024 events) holds 1,024
//! output buffers at once; a pool that kept all of them at 4 KiB each pinned
//! 4 MiB per reactor for good — 240 MiB over the 60 processes of a
//! million-connection fleet, 300 bytes per connection. Fresh buffers start
//! small (a counter's answer is 13 bytes) and grow as a page needs; a grown
//! buffer is kept while it fits the budget, so a web reactor's page-sized
//! buffers are reused, and one over `max_keep` (a rare large message) is
//! freed.

/// A free list of `Vec<u8>` owned by one reactor thread (no locking).
#[derive(Debug)]
pub struct BufferPool {
    free: Vec<Vec<u8>>,
    buffer_capacity: usize,
    /// Capacity of all the free buffers together.
    pooled_bytes: usize,
    budget_bytes: usize,
    max_keep_capacity: usize,
}

impl BufferPool {
    /// `buffer_capacity` is the size of a fresh buffer; free buffers are
    /// kept up to `budget_bytes` of capacity in all, and a buffer that grew
    /// past `max_keep_capacity` is freed rather than kept.
    pub fn new(buffer_capacity: usize, budget_bytes: usize, max_keep_capacity: usize) -> Self {
        BufferPool {
            free: Vec::new(),
            buffer_capacity,
            pooled_bytes: 0,
            budget_bytes,
            max_keep_capacity: max_keep_capacity.max(buffer_capacity),
        }
    }

    /// An empty buffer, reused when one is free.
    pub fn take(&mut self) -> Vec<u8> {
        match self.free.pop() {
            Some(buf) => {
                self.pooled_bytes -= buf.capacity();
                buf
            }
            None => Vec::with_capacity(self.buffer_capacity),
        }
    }

    /// Returns a buffer to the pool (cleared), or frees it if the pool's
    /// budget is spent or the buffer grew too large.
    pub fn give(&mut self, mut buf: Vec<u8>) {
        let capacity = buf.capacity();
        if capacity <= self.max_keep_capacity && self.pooled_bytes + capacity <= self.budget_bytes {
            buf.clear();
            self.pooled_bytes += capacity;
            self.free.push(buf);
        }
    }

    /// Free buffers currently held.
    pub fn pooled(&self) -> usize {
        self.free.len()
    }

    /// Capacity of the free buffers, bytes.
    pub fn pooled_bytes(&self) -> usize {
        self.pooled_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_bounded_in_bytes() {
        let mut pool = BufferPool::new(16, 48, 64);
        let a = pool.take();
        let ptr = a.as_ptr();
        pool.give(a);
        let b = pool.take();
        assert_eq!(b.as_ptr(), ptr, "the same allocation comes back");
        pool.give(b);
        pool.give(Vec::with_capacity(16));
        pool.give(Vec::with_capacity(16));
        pool.give(Vec::with_capacity(16));
        assert_eq!(pool.pooled(), 3);
        assert_eq!(pool.pooled_bytes(), 48, "the budget is spent");
        pool.give(Vec::with_capacity(16));
        assert_eq!(pool.pooled(), 3, "beyond the budget buffers are freed");
        let _ = pool.take();
        assert_eq!(pool.pooled_bytes(), 32);

        let mut pool = BufferPool::new(16, 1024, 64);
        pool.give(Vec::with_capacity(65));
        assert_eq!(pool.pooled(), 0, "oversized buffers are freed");
        pool.give(Vec::with_capacity(64));
        assert_eq!(pool.pooled(), 1, "a grown buffer within bounds is kept");
    }
}
