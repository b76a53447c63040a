//! The fuzz worker pool under shuttle: the real `src/pool.rs`, compiled with shuttle's
//! threads, atomics and channels, run over every schedule (small sizes, `check_dfs`)
//! or many random and PCT schedules (larger sizes). What must hold on each: every
//! case is taken by exactly one worker, every message reaches the caller, and the
//! call returns (shuttle reports a deadlock or a hang as a failure).

/// What `pool.rs` imports as `crate::sync`.
mod sync {
    pub use shuttle::sync::{atomic, mpsc};
    pub use shuttle::thread;
}

#[path = "../src/pool.rs"]
#[allow(dead_code)]
mod pool;

/// One pool run: workers whose numbers are in `failing` return before taking a case
/// (as a worker does when its adapter cannot start).
fn one_run(jobs: usize, cases: u64, failing: &'static [usize]) {
    let ids = shuttle::sync::atomic::AtomicUsize::new(0);
    let mut taken = Vec::new();
    let mut setup_failures = 0;
    pool::run(
        jobs,
        cases,
        |w: &pool::Worker<'_, Option<u64>>| {
            let me = ids.fetch_add(1, shuttle::sync::atomic::Ordering::SeqCst);
            if failing.contains(&me) {
                w.send(None);
                return;
            }
            while let Some(case) = w.take() {
                w.send(Some(case));
            }
        },
        |msg| match msg {
            Some(case) => taken.push(case),
            None => setup_failures += 1,
        },
    );
    taken.sort();
    let failed = failing.iter().filter(|&&f| f < jobs.max(1)).count();
    let everything: Vec<u64> = if failed == jobs.max(1) {
        Vec::new()
    } else {
        (0..cases).collect()
    };
    assert_eq!(
        taken, everything,
        "jobs {jobs}, cases {cases}, failing {failing:?}"
    );
    assert_eq!(setup_failures, failed);
}

#[test]
fn every_schedule_of_two_workers_takes_each_case_once() {
    shuttle::check_dfs(|| one_run(2, 2, &[]), None);
}

#[test]
fn every_schedule_with_a_failed_worker_still_finishes_the_cases() {
    shuttle::check_dfs(|| one_run(2, 3, &[0]), None);
}

#[test]
fn all_workers_failing_returns_without_cases() {
    shuttle::check_dfs(|| one_run(2, 2, &[0, 1]), None);
}

#[test]
fn random_and_pct_schedules_at_larger_sizes() {
    for (jobs, cases) in [(3, 7), (4, 5), (1, 4), (3, 0)] {
        shuttle::check_random(move || one_run(jobs, cases, &[]), 300);
        shuttle::check_pct(move || one_run(jobs, cases, &[1]), 300, 3);
    }
}

/// A run stopped by the caller after the first case it sees: every case taken is
/// still delivered (none lost), each once, and the call returns.
fn stopped_run(jobs: usize, cases: u64) {
    let stop = shuttle::sync::atomic::AtomicBool::new(false);
    let took = shuttle::sync::atomic::AtomicU64::new(0);
    let mut taken = Vec::new();
    pool::run_stoppable(
        jobs,
        cases,
        &stop,
        |w: &pool::Worker<'_, u64>| {
            while let Some(case) = w.take() {
                took.fetch_add(1, shuttle::sync::atomic::Ordering::SeqCst);
                w.send(case);
            }
        },
        |case| {
            taken.push(case);
            stop.store(true, shuttle::sync::atomic::Ordering::SeqCst);
        },
    );
    let mut sorted = taken.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        taken.len(),
        "a case delivered twice: {taken:?}"
    );
    assert_eq!(
        taken.len() as u64,
        took.load(shuttle::sync::atomic::Ordering::SeqCst)
    );
    assert!(!taken.is_empty() || cases == 0);
}

#[test]
fn a_stopped_run_delivers_what_was_taken_and_returns() {
    // Random and PCT schedules: the stop flag's reads multiply the schedules past what
    // an exhaustive search finishes in CI.
    shuttle::check_random(|| stopped_run(2, 3), 2000);
    shuttle::check_pct(|| stopped_run(3, 4), 2000, 3);
}
