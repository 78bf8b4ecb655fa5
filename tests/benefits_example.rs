//! Runs `examples/benefits.rs` end to end: a hire in the BambooHR fake becomes an 834 on the
//! real OpenSSH drop box, accepted by pyx12, its 999 matched back (the example fails otherwise).

#![allow(clippy::unwrap_used)]

#[path = "../examples/benefits.rs"]
mod benefits;

fn the_benefits_example_runs_end_to_end() {
    benefits::main().expect("the example runs to its end");
}

fn main() -> std::process::ExitCode {
    use integration_testkit::harness::{self, Need};
    harness::run(
        &[Need::python("pyx12"), Need::openssh()],
        integration_testkit::trials![sync the_benefits_example_runs_end_to_end],
    )
}
