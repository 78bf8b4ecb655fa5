//! Field mappings, beside a hand-written equivalent in the same run: a page of 1,000 employee
//! records (the common model as JSON, and the provider's raw record) through two mappings — a
//! nested value looked up in a table, a custom field trimmed and uppercased with a default — and
//! two rules — a pattern on the work email, a required custom field —, beside the same work
//! written in Rust over `serde_json::Value` (a `match` for the table, `str::ends_with` for the
//! pattern).
//!
//! `cargo bench --bench mapping`; the ratio is printed at the end.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use integrations::mapping::{Check, FieldMapping, Mapper, Mappings, Rule, Transform};
use serde_json::{Value, json};

const RECORDS: usize = 1_000;

fn page() -> Vec<(Value, Value)> {
    let offices = ["Berlin", "Toronto", "Remote"];
    (0..RECORDS)
        .map(|i| {
            let raw = json!({
                "id": i.to_string(), "descriptor": format!("Person {i}"),
                "primaryJob": {"businessTitle": "Engineer", "location": {"descriptor": offices[i % 3]}},
                "customShirtSize": if i % 2 == 0 { json!(" l ") } else { Value::Null },
            });
            let data = json!({
                "remote_id": i.to_string(), "first_name": "Person", "last_name": i.to_string(),
                "work_email": format!("person.{i}@example.com"),
                "employment": {"status": "active", "start_date": "2020-01-06"},
            });
            (data, raw)
        })
        .collect()
}

fn mapper() -> Mapper {
    let offices = [("Berlin", "BER"), ("Toronto", "YYZ"), ("Remote", "REM")].map(|(k, v)| (k.to_owned(), json!(v)));
    let mappings = Mappings::default()
        .map(
            FieldMapping::new("employees", "/primaryJob/location/descriptor", "office")
                .then(Transform::Lookup { table: offices.into(), otherwise: None }),
        )
        .map(
            FieldMapping::new("employees", "/customShirtSize", "shirt_size")
                .then(Transform::Trim)
                .then(Transform::Uppercase)
                .then(Transform::Default { value: json!("M") }),
        )
        .rule(Rule::new("employees", "work_email", Check::Pattern { regex: r"@example\.com$".into() }))
        .rule(Rule::new("employees", "custom_fields.office", Check::Required));
    Mapper::compile(&mappings, None).expect("the mappings compile")
}

fn with_mapper(mapper: &Mapper, page: &mut [(Value, Value)]) -> usize {
    let mut kept = 0;
    for (data, raw) in page.iter_mut() {
        kept += usize::from(mapper.apply("employees", data, Some(raw)).is_ok());
    }
    kept
}

fn by_hand(page: &mut [(Value, Value)]) -> usize {
    let mut kept = 0;
    for (data, raw) in page.iter_mut() {
        let office = match raw.pointer("/primaryJob/location/descriptor").and_then(Value::as_str) {
            Some("Berlin") => "BER",
            Some("Toronto") => "YYZ",
            Some("Remote") => "REM",
            _ => continue,
        };
        let shirt =
            raw.pointer("/customShirtSize").and_then(Value::as_str).map_or("M".to_owned(), |s| s.trim().to_uppercase());
        if let Value::Object(record) = data {
            record.insert("custom_fields".into(), json!({"office": office, "shirt_size": shirt}));
        }
        if data["work_email"].as_str().is_some_and(|e| e.ends_with("@example.com")) {
            kept += 1;
        }
    }
    kept
}

fn time(rounds: u32, mut work: impl FnMut(&mut [(Value, Value)]) -> usize) -> Duration {
    let fresh = page();
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let mut page = fresh.clone();
        let started = Instant::now();
        assert_eq!(work(&mut page), RECORDS);
        total += started.elapsed();
    }
    total
}

fn benches(c: &mut Criterion) {
    let mapper = mapper();
    let mut group = c.benchmark_group("mapping");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("mapper", |b| {
        b.iter_batched_ref(page, |page| with_mapper(&mapper, page), criterion::BatchSize::LargeInput);
    });
    group.bench_function("by_hand", |b| {
        b.iter_batched_ref(page, |page| by_hand(page), criterion::BatchSize::LargeInput)
    });
    group.finish();

    // Paired ratio, measured here in the same process, alternating.
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        ours.push(time(20, |page| with_mapper(&mapper, page)));
        theirs.push(time(20, by_hand));
    }
    ours.sort();
    theirs.sort();
    let per_record = |d: Duration| d.as_nanos() as f64 / (20 * RECORDS) as f64;
    println!(
        "mapping: {:.0} ns a record through two mappings and two rules; hand-written {:.0} ns; ratio {:.2}",
        per_record(ours[3]),
        per_record(theirs[3]),
        ours[3].as_secs_f64() / theirs[3].as_secs_f64()
    );
}

criterion_group!(mapping, benches);
criterion_main!(mapping);
