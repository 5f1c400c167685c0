//! How many threads "one per core" means, in one place: the cores this
//! process may run on (its CPU affinity, as `available_parallelism` reads
//! it), and 1 when that cannot be learnt.

/// The cores this process may run on, at least 1.
pub fn available() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `configured`, or one per core when it is 0 (the configs' "auto").
pub fn or_per_core(configured: usize) -> usize {
    match configured {
        0 => available(),
        n => n,
    }
}
