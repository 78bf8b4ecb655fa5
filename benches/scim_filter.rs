//! SCIM filters, beside a hand-written equivalent in the same run: 10,000 users (SCIM JSON, as
//! the SCIM server keeps them) tested against a typical IdP query — a `userName` prefix, the user
//! active, a work email in the domain (`userName sw "user1" and active eq true and emails[type eq
//! "work" and value ew "@acme.example"]`) — through the parsed `Filter`, and through the same
//! comparisons written in Rust over `serde_json::Value` (case-insensitive like SCIM's).
//!
//! `cargo bench --bench scim_filter --features sso`; the ratio is printed at the end.
//! `SCIM_FILTER_BENCH_ONLY=filter|by_hand|nothing` runs ten passes of one side only, for
//! instruction counts under `valgrind --tool=callgrind`.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use integrations::sso::scim::filter::Filter;
use serde_json::{Value, json};

const USERS: usize = 10_000;
const QUERY: &str = r#"userName sw "user1" and active eq true and emails[type eq "work" and value ew "@acme.example"]"#;

fn users() -> Vec<Value> {
    (0..USERS)
        .map(|i| {
            let domain = if i % 3 == 0 { "other.example" } else { "acme.example" };
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": format!("u{i}"),
                "userName": format!("user{i}"),
                "active": i % 4 != 0,
                "name": {"givenName": "Person", "familyName": i.to_string()},
                "emails": [
                    {"type": "home", "value": format!("person{i}@home.example")},
                    {"type": "work", "value": format!("user{i}@{domain}"), "primary": true},
                ],
            })
        })
        .collect()
}

fn with_filter(filter: &Filter, users: &[Value]) -> usize {
    users.iter().filter(|u| filter.matches(u).unwrap_or(false)).count()
}

fn lower_starts(value: &str, prefix: &str) -> bool {
    value.len() >= prefix.len() && value.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn lower_ends(value: &str, suffix: &str) -> bool {
    value.len() >= suffix.len()
        && value.as_bytes()[value.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

fn by_hand(users: &[Value]) -> usize {
    users
        .iter()
        .filter(|u| {
            u["userName"].as_str().is_some_and(|n| lower_starts(n, "user1"))
                && u["active"].as_bool() == Some(true)
                && u["emails"].as_array().is_some_and(|emails| {
                    emails.iter().any(|e| {
                        e["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("work"))
                            && e["value"].as_str().is_some_and(|v| lower_ends(v, "@acme.example"))
                    })
                })
        })
        .count()
}

fn time(users: &[Value], rounds: u32, work: impl Fn(&[Value]) -> usize, expected: usize) -> Duration {
    let started = Instant::now();
    for _ in 0..rounds {
        assert_eq!(work(std::hint::black_box(users)), expected);
    }
    started.elapsed()
}

fn benches(c: &mut Criterion) {
    let users = users();
    let filter = Filter::parse(QUERY).expect("the query parses");
    let expected = by_hand(&users);
    assert_eq!(with_filter(&filter, &users), expected, "the same users");
    assert!(expected > 100, "a selective but non-empty query: {expected}");
    if let Ok(only) = std::env::var("SCIM_FILTER_BENCH_ONLY") {
        // For instruction counts (callgrind): ten passes over the users through the filter
        // (`filter`), by hand (`by_hand`), or neither (`nothing`: the setup, to subtract).
        for _ in 0..10 {
            let hits = match only.as_str() {
                "filter" => with_filter(&filter, std::hint::black_box(&users)),
                "by_hand" => by_hand(std::hint::black_box(&users)),
                _ => 0,
            };
            std::hint::black_box(hits);
        }
        return;
    }

    let mut group = c.benchmark_group("scim_filter");
    group.throughput(Throughput::Elements(USERS as u64));
    group.bench_function("filter", |b| b.iter(|| with_filter(&filter, &users)));
    group.bench_function("by_hand", |b| b.iter(|| by_hand(&users)));
    group.finish();
    c.bench_function("scim_filter/parse", |b| b.iter(|| Filter::parse(std::hint::black_box(QUERY))));

    // Paired ratio, measured here in the same process, alternating.
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        ours.push(time(&users, 20, |u| with_filter(&filter, u), expected));
        theirs.push(time(&users, 20, by_hand, expected));
    }
    ours.sort();
    theirs.sort();
    let per_user = |d: Duration| d.as_nanos() as f64 / (20 * USERS) as f64;
    println!(
        "scim_filter: {:.0} ns a user through the parsed filter; hand-written {:.0} ns; ratio {:.2}",
        per_user(ours[3]),
        per_user(theirs[3]),
        ours[3].as_secs_f64() / theirs[3].as_secs_f64()
    );
}

criterion_group!(scim_filter, benches);
criterion_main!(scim_filter);
