//! The fuzz campaign's worker pool: `jobs` threads take case numbers from one atomic
//! counter and send messages to the calling thread, which consumes them as they come.
//!
//! Written against `crate::sync` (std here) so `tests/pool_shuttle.rs` can compile
//! this same file with shuttle's threads, atomics and channels and explore its
//! schedules: every case taken exactly once, every message delivered, no hang.

use crate::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::sync::{mpsc, thread};

/// A worker's handle on the pool: the shared case counter and the way back.
pub struct Worker<'a, M> {
    next: &'a AtomicU64,
    cases: u64,
    /// None for a run that cannot be stopped: then `take` is one atomic operation, as
    /// before (every atomic operation is a point where shuttle's exhaustive search
    /// branches).
    stop: Option<&'a AtomicBool>,
    tx: mpsc::Sender<M>,
}

impl<M> Worker<'_, M> {
    /// The next case nobody has taken, or `None` once all are taken or the run was
    /// stopped.
    pub fn take(&self) -> Option<u64> {
        if self.stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            return None;
        }
        let case = self.next.fetch_add(1, Ordering::SeqCst);
        (case < self.cases).then_some(case)
    }

    /// Stop the run: no worker takes another case (those taken still finish).
    pub fn stop(&self) {
        if let Some(s) = self.stop {
            s.store(true, Ordering::SeqCst);
        }
    }

    /// Send a message to the caller (dropped if the caller stopped listening).
    pub fn send(&self, msg: M) {
        let _ = self.tx.send(msg);
    }
}

/// Run `work` on `jobs` threads over cases `0..cases`. `sink` sees every message on
/// the calling thread; the call returns when every worker has returned and every
/// message has been consumed. A worker may return early (its setup failed): the
/// others still take every remaining case.
pub fn run<M: Send>(
    jobs: usize,
    cases: u64,
    work: impl Fn(&Worker<'_, M>) + Sync,
    sink: impl FnMut(M),
) {
    run_with(jobs, cases, None, work, sink)
}

/// [`run`], stopped early once `stop` is set (by a worker, or by `sink` on the calling
/// thread: `--fail-fast`, `--max-fail`, `--max-time`). Cases already taken finish and
/// their messages are consumed; no case is taken after.
pub fn run_stoppable<M: Send>(
    jobs: usize,
    cases: u64,
    stop: &AtomicBool,
    work: impl Fn(&Worker<'_, M>) + Sync,
    sink: impl FnMut(M),
) {
    run_with(jobs, cases, Some(stop), work, sink)
}

fn run_with<M: Send>(
    jobs: usize,
    cases: u64,
    stop: Option<&AtomicBool>,
    work: impl Fn(&Worker<'_, M>) + Sync,
    mut sink: impl FnMut(M),
) {
    let next = AtomicU64::new(0);
    let (tx, rx) = mpsc::channel();
    thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            let worker = Worker {
                next: &next,
                cases,
                stop,
                tx: tx.clone(),
            };
            let work = &work;
            scope.spawn(move || work(&worker));
        }
        // The channel closes when the last worker's sender is dropped.
        drop(tx);
        for msg in rx {
            sink(msg);
        }
    });
}
