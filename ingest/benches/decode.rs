//! Decoding throughput: three simulated days of events (about 22,000 lines of NDJSON) decoded and validated,
//! line by line and as a micro-batch on all cores. Run with `cargo bench -p ingest --bench decode`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ingest::simulate::simulate;
use ingest::{RawMessage, SimulationSpec, decode_batch};
use schemas::{decode_event, encode_event};

fn lines() -> Vec<Vec<u8>> {
    let spec = SimulationSpec {
        days: 3,
        ..SimulationSpec::default()
    };
    let mut lines = Vec::new();
    simulate(&spec, |event| {
        lines.push(serde_json::to_vec(&encode_event(&event, spec.zone)).expect("serialisable"));
    });
    lines
}

fn decode(c: &mut Criterion) {
    let lines = lines();
    let bytes: usize = lines.iter().map(Vec::len).sum();
    let now = i64::MAX / 2;
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function(
        format!("decode_event ({} lines, {bytes} bytes)", lines.len()),
        |b| {
            b.iter(|| {
                lines
                    .iter()
                    .filter(|line| decode_event(line, now).is_ok())
                    .count()
            })
        },
    );
    group.bench_function("decode_batch", |b| {
        b.iter_batched(
            || {
                lines
                    .iter()
                    .enumerate()
                    .map(|(i, line)| RawMessage {
                        partition: 0,
                        offset: i as u64,
                        payload: line.clone().into(),
                        produced_at: None,
                    })
                    .collect::<Vec<_>>()
            },
            |raw| decode_batch(raw, now),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
