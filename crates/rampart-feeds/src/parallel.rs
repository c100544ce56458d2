//! Spreads parse work over the cores with `std::thread::scope`: a 100,000-record feed
//! is CPU-bound JSON parsing, and a shared counter handing out small chunks keeps every
//! core busy however uneven the records are. Results come back in input order, so a
//! load is deterministic whatever the thread count.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use crate::feed::{LoadOptions, Progress};

/// Items handed to a thread at a time: large enough to keep the counter cold, small
/// enough that the last chunks balance out.
const CHUNK: usize = 32;

/// Runs `work(state, i)` for every `i < count` and returns the results in index order.
/// Each thread builds its own `state` with `init` (a cloned zip reader, say).
pub(crate) fn run<S, R, I, W>(count: usize, opts: &LoadOptions<'_>, init: I, work: W) -> Vec<R>
where
    R: Send,
    I: Fn() -> S + Sync,
    W: Fn(&mut S, usize) -> R + Sync,
{
    let threads = opts.thread_count().min(count.div_ceil(CHUNK)).max(1);
    let next = AtomicUsize::new(0);
    let done = Mutex::new(0u64);
    let total = count as u64;
    let worker = || {
        let mut state = init();
        let mut out = Vec::new();
        loop {
            let start = next.fetch_add(CHUNK, Ordering::Relaxed);
            if start >= count {
                break;
            }
            let end = (start + CHUNK).min(count);
            for i in start..end {
                out.push((i, work(&mut state, i)));
            }
            // Reported under the lock so the callback sees `done` only grow.
            let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
            *done += (end - start) as u64;
            opts.report(Progress::Parsing { done: *done, total });
        }
        out
    };
    let parts = if threads == 1 {
        vec![worker()]
    } else {
        thread::scope(|s| {
            let worker = &worker;
            let helpers: Vec<_> = (1..threads).map(|_| s.spawn(worker)).collect();
            let mut parts = vec![worker()];
            for h in helpers {
                parts.push(
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
            }
            parts
        })
    };
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(count).collect();
    for (i, r) in parts.into_iter().flatten() {
        slots[i] = Some(r);
    }
    slots
        .into_iter()
        .map(|r| r.expect("every index is handed out exactly once"))
        .collect()
}

#[cfg(test)]
mod tests;
