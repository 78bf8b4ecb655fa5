//! Runs `examples/sso.rs` end to end: provisioned through SCIM, signed in through OpenID Connect
//! against the real oidc-provider, a second factor, roles, and a session ended by deprovisioning
//! (the example fails if the session outlives it).

#[path = "../examples/sso.rs"]
mod sso;

#[test]
fn the_sso_example_runs_end_to_end() {
    sso::main().expect("the example runs to its end");
}
