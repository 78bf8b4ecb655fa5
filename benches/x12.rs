//! Reading an 834, beside a hand-written tokenizer in the same run: a full file of 5,000
//! members (about 43,000 segments, 1 MB) split into segments and elements by `x12::read`
//! (delimiters from the `ISA`, limits, owned segments) and by the plainest loop that does the
//! same (split on `~`, then `*`, then `:`, into owned strings, nothing checked). Also timed: the
//! whole file read into the model (`enrollment::read`) and written (`enrollment::interchange`).
//!
//! `cargo bench --bench x12 --features benefits`; the ratio is printed at the end.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use integrations::benefits::enrollment::{self, *};
use integrations::benefits::x12::{self, Limits};

const MEMBERS: usize = 5_000;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

fn full_file() -> (Enrollment, Sender, CarrierProfile) {
    let sender = Sender {
        qualifier: "ZZ".into(),
        id: "ACMEHR".into(),
        application_sender: "ACMEHR".into(),
        sponsor: Party { name: "Acme Corp".into(), id_qualifier: "FI".into(), id: "123456789".into() },
    };
    let profile = CarrierProfile::default();
    let members = (0..MEMBERS)
        .map(|i| Member {
            subscriber_id: format!("E{:05}", i / 2),
            relationship: if i % 2 == 0 { Relationship::Subscriber } else { Relationship::Spouse },
            maintenance: Maintenance::Audit,
            employment_status: Some("FT".into()),
            policy: Some("G12345".into()),
            name: PersonName { last: format!("Member{i}"), first: "Pat".into(), middle: None },
            birth_date: Some(day(1960 + (i % 40) as i32, 1 + (i % 12) as u32, 1 + (i % 28) as u32)),
            address: Some(Address {
                line1: format!("{i} King St W"),
                line2: None,
                city: "Toronto".into(),
                region: Some("ON".into()),
                postal_code: Some("M5X 1C9".into()),
                country: Some("CA".into()),
            }),
            coverages: vec![Coverage {
                maintenance: Maintenance::Audit,
                line: "HLT".into(),
                plan: Some("Extended Health".into()),
                tier: Some("ESP".into()),
                begins: Some(day(2026, 1, 1)),
                ..Coverage::default()
            }],
            ..Member::default()
        })
        .collect();
    let e = Enrollment {
        reference: "FULL".into(),
        created: day(2026, 4, 1).and_hms_opt(2, 0, 0).expect("a time"),
        purpose: Purpose::Verify,
        sponsor: sender.sponsor.clone(),
        insurer: profile.insurer.clone(),
        members,
        ..Enrollment::default()
    };
    (e, sender, profile)
}

/// The hand-written baseline: segments split on `~`, elements on `*`, components on `:`.
fn by_hand(text: &str) -> usize {
    let mut segments: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for raw in text.split('~') {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let mut parts = raw.split('*');
        let id = parts.next().unwrap_or_default().to_owned();
        let elements = parts.map(|e| e.split(':').map(str::to_owned).collect()).collect();
        segments.push((id, elements));
    }
    segments.len()
}

fn ours(text: &str) -> usize {
    x12::read(text.as_bytes(), &Limits::default()).expect("it reads").segments.len()
}

fn time(text: &str, rounds: u32, work: impl Fn(&str) -> usize, expected: usize) -> Duration {
    let started = Instant::now();
    for _ in 0..rounds {
        assert_eq!(work(std::hint::black_box(text)), expected);
    }
    started.elapsed()
}

fn benches(c: &mut Criterion) {
    let (e, sender, profile) = full_file();
    let text = enrollment::interchange(&e, &sender, &profile, 1, e.created).expect("it writes");
    let expected = by_hand(&text);
    assert_eq!(ours(&text), expected, "the same segments");

    let mut group = c.benchmark_group("x12");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("read", |b| b.iter(|| ours(&text)));
    group.bench_function("by_hand", |b| b.iter(|| by_hand(&text)));
    group.sample_size(10);
    group.bench_function("enrollment_read", |b| {
        b.iter(|| enrollment::read(text.as_bytes(), &Limits::default()).expect("it reads").len())
    });
    group.bench_function("enrollment_write", |b| {
        b.iter(|| enrollment::interchange(&e, &sender, &profile, 1, e.created).expect("it writes").len())
    });
    group.finish();

    // Paired ratio, measured here in the same process, alternating.
    let (mut mine, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        mine.push(time(&text, 5, ours, expected));
        theirs.push(time(&text, 5, by_hand, expected));
    }
    mine.sort();
    theirs.sort();
    let per_segment = |d: Duration| d.as_nanos() as f64 / (5 * expected) as f64;
    println!(
        "x12: {} segments, {} bytes; {:.0} ns a segment through x12::read; hand-written {:.0} ns; ratio {:.2}",
        expected,
        text.len(),
        per_segment(mine[3]),
        per_segment(theirs[3]),
        mine[3].as_secs_f64() / theirs[3].as_secs_f64()
    );
}

criterion_group!(x12_bench, benches);
criterion_main!(x12_bench);
