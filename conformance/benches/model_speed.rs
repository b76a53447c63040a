//! How fast the model runs: statements (loop callbacks plus scenario statements) per
//! second, and scenarios per second, on a fixed generated set (seed 1, 200 scenarios).
//!
//! Run: `cargo bench -p asyncspec-conformance --bench model_speed`.

use asyncspec_conformance::generate;
use asyncspec_model::{run, Profile};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

const SEED: u64 = 1;
const SCENARIOS: usize = 200;

fn model_speed(c: &mut Criterion) {
    let set = generate::fixed_set(SEED, SCENARIOS);
    let steps: u64 = set
        .iter()
        .map(|s| {
            run(s, Profile::Cpython313, &[])
                .expect("generated scenarios run")
                .steps
        })
        .sum();
    let mut group = c.benchmark_group("model");
    group.throughput(Throughput::Elements(steps));
    group.bench_function("statements (200 generated scenarios, cpython-3.13)", |b| {
        b.iter(|| {
            for s in &set {
                black_box(run(black_box(s), Profile::Cpython313, &[]).expect("runs"));
            }
        })
    });
    group.throughput(Throughput::Elements(SCENARIOS as u64));
    group.bench_function("scenarios (200 generated, cpython-3.13)", |b| {
        b.iter(|| {
            for s in &set {
                black_box(run(black_box(s), Profile::Cpython313, &[]).expect("runs"));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, model_speed);
criterion_main!(benches);
