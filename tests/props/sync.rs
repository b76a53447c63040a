//! Properties of asyncio's primitives and queues over the `sync` generator's programs,
//! checked on the model's traces under every CPython profile: a Lock is held by one
//! acquirer at a time, and a FIFO Queue hands out what was put, in order, each once.

use asyncspec_conformance::generate::{scenario_from, Generator};
use asyncspec_model::trace::{EventKind, Outcome};
use asyncspec_model::value::Value;
use asyncspec_model::{run, Profile};
use proptest::prelude::*;

fn profile() -> impl Strategy<Value = Profile> {
    prop::sample::select(Profile::ALL.to_vec())
}

/// What an event says happened to the generator's Lock `l0` or FIFO queue `q0`.
enum Seen {
    Acquired,
    Released,
    ReleaseRefused,
    Locked(bool),
    Put(Value),
    Got(Value),
}

fn seen(kind: &EventKind) -> Option<Seen> {
    let (what, outcome) = match kind {
        EventKind::Call { call, outcome } => (call.as_str(), outcome),
        EventKind::Resume { awaited, outcome } => (awaited.as_str(), outcome),
        _ => return None,
    };
    match (what, outcome) {
        ("l0.acquire()", Outcome::Value { .. }) => Some(Seen::Acquired),
        ("l0.release()", Outcome::Value { .. }) => Some(Seen::Released),
        ("l0.release()", Outcome::Raised { exc }) if exc.class == "RuntimeError" => {
            Some(Seen::ReleaseRefused)
        }
        (
            "l0.locked()",
            Outcome::Value {
                value: Value::Bool(b),
            },
        ) => Some(Seen::Locked(*b)),
        ("q0.get()" | "q0.get_nowait()", Outcome::Value { value }) => {
            Some(Seen::Got(value.clone()))
        }
        (call, Outcome::Value { .. }) => {
            let item = call
                .strip_prefix("q0.put_nowait(")
                .or_else(|| call.strip_prefix("q0.put("))?
                .strip_suffix(')')?;
            Some(Seen::Put(match item.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Str(item.trim_matches('\'').to_string()),
            }))
        }
        _ => None,
    }
}

/// The program with q0 unbounded and holding 10, 11, 12 before anything else runs, so
/// that the order of what it hands out is at stake.
fn with_queued_items(mut s: asyncspec_model::Scenario) -> asyncspec_model::Scenario {
    use asyncspec_model::scenario::{Stmt, SyncMethod};
    let mut main: Vec<Stmt> = s.main.iter().cloned().collect();
    let after = main
        .iter()
        .position(|st| !matches!(st, Stmt::SyncNew { .. }))
        .unwrap_or(main.len());
    for st in &mut main[..after] {
        if let Stmt::SyncNew { var, value, .. } = st {
            if var == "q0" {
                *value = Some(0);
            }
        }
    }
    for (k, item) in [10, 11, 12].into_iter().enumerate() {
        main.insert(
            after + k,
            Stmt::SyncCall {
                target: "q0".into(),
                method: SyncMethod::PutNowait,
                arg: Some(Value::Int(item)),
                var: None,
            },
        );
    }
    s.main = std::rc::Rc::from(main);
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn a_lock_has_one_holder_and_a_fifo_queue_keeps_order(
        s in scenario_from(Generator::Sync).prop_map(with_queued_items), p in profile()
    ) {
        let t = run(&s, p, &[]).expect("generated scenarios are valid");
        let mut held = false;
        let (mut puts, mut gets) = (Vec::new(), Vec::new());
        for e in &t.events {
            match seen(&e.kind) {
                Some(Seen::Acquired) => {
                    prop_assert!(!held, "l0 acquired while held: {:?}", e);
                    held = true;
                }
                Some(Seen::Released) => {
                    prop_assert!(held, "l0 released while free: {:?}", e);
                    held = false;
                }
                Some(Seen::ReleaseRefused) => prop_assert!(!held, "release of a held l0 refused"),
                Some(Seen::Locked(b)) => prop_assert_eq!(b, held),
                Some(Seen::Put(v)) => puts.push(v),
                Some(Seen::Got(v)) => {
                    gets.push(v);
                    prop_assert!(gets.len() <= puts.len(), "q0 gave more than it was given");
                }
                None => {}
            }
        }
        // What q0 handed out is what it was given, in order (a 3.13 shutdown(immediate=True)
        // may drop items between): a subsequence of the puts.
        let mut rest = puts.iter();
        for g in &gets {
            prop_assert!(rest.any(|p| p == g), "q0 handed out {g:?} out of order: puts {puts:?}, gets {gets:?}");
        }
    }
}
