//! A per-reactor pool of byte buffers.
//!
//! A connection holds a buffer only while bytes are in flight: leftover input
//! of a partial request, or output the socket did not take yet. When the
//! buffer empties it goes back here, so an idle connection owns none and a
//! busy reactor reuses the same few allocations instead of calling malloc per
//! request. The pool is bounded in count and drops oversized buffers, so a
//! burst of large messages cannot pin memory forever.

/// A free list of `Vec<u8>` owned by one reactor thread (no locking).
#[derive(Debug)]
pub struct BufferPool {
    free: Vec<Vec<u8>>,
    buffer_capacity: usize,
    max_pooled: usize,
    max_keep_capacity: usize,
}

impl BufferPool {
    /// `buffer_capacity` is the size of a fresh buffer; at most `max_pooled`
    /// free buffers are kept, and a buffer that grew past four times the
    /// fresh size is freed rather than kept.
    pub fn new(buffer_capacity: usize, max_pooled: usize) -> Self {
        BufferPool {
            free: Vec::with_capacity(max_pooled.min(1024)),
            buffer_capacity,
            max_pooled,
            max_keep_capacity: buffer_capacity.saturating_mul(4),
        }
    }

    /// An empty buffer, reused when one is free.
    pub fn take(&mut self) -> Vec<u8> {
        self.free
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.buffer_capacity))
    }

    /// Returns a buffer to the pool (cleared), or frees it if the pool is full
    /// or the buffer grew too large.
    pub fn give(&mut self, mut buf: Vec<u8>) {
        if self.free.len() < self.max_pooled && buf.capacity() <= self.max_keep_capacity {
            buf.clear();
            self.free.push(buf);
        }
    }

    /// Free buffers currently held.
    pub fn pooled(&self) -> usize {
        self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_bounded() {
        let mut pool = BufferPool::new(16, 2);
        let a = pool.take();
        let ptr = a.as_ptr();
        pool.give(a);
        let b = pool.take();
        assert_eq!(b.as_ptr(), ptr, "the same allocation comes back");
        pool.give(b);
        pool.give(Vec::with_capacity(16));
        pool.give(Vec::with_capacity(16));
        assert_eq!(pool.pooled(), 2);
        let mut pool = BufferPool::new(16, 2);
        pool.give(Vec::with_capacity(1024));
        assert_eq!(pool.pooled(), 0, "oversized buffers are freed");
    }
}
