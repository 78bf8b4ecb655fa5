//! TOTP and recovery codes: RFC 6238's test vectors; one step of drift either side accepted,
//! two refused; a code taken once, even by two sign-ins racing with it; lockout after repeated
//! failures; recovery codes good once; secrets never in Debug output.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use integration_core::TenantId;
use integration_core::crypto::{KeyRing, Sealer, SealingKey};
use integration_sso::mfa::store::{MemoryMfaStore, MfaStore};
use integration_sso::mfa::totp::{Hash, Totp, TotpPolicy, Verdict};
use integration_sso::mfa::{Lockout, Mfa, Refusal, Verification};
use secrecy::ExposeSecret;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().expect("a time")
}

#[test]
fn the_rfc_6238_test_vectors_pass() {
    let sha1 = b"12345678901234567890";
    let sha256 = b"12345678901234567890123456789012";
    let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234";
    let vectors = [
        (59, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ];
    for (time, one, two_five_six, five_twelve) in vectors {
        for (secret, hash, expected) in [
            (&sha1[..], Hash::Sha1, one),
            (&sha256[..], Hash::Sha256, two_five_six),
            (&sha512[..], Hash::Sha512, five_twelve),
        ] {
            let totp = Totp::new(secret, TotpPolicy::default().with(hash, 8)).expect("a TOTP");
            assert_eq!(totp.code_at(at(time)), expected, "{hash:?} at {time}");
            assert_eq!(totp.check(expected, at(time), None), Verdict::Accepted { step: totp.step_at(at(time)) });
        }
    }
}

#[test]
fn one_step_of_drift_is_accepted_two_are_not_and_input_is_checked() {
    let totp = Totp::new(b"12345678901234567890", TotpPolicy::default()).expect("a TOTP");
    let now = at(1_700_000_000);
    let before = totp.code_at(now - Duration::seconds(30));
    let after = totp.code_at(now + Duration::seconds(30));
    let far = totp.code_at(now - Duration::seconds(60));
    assert!(matches!(totp.check(&before, now, None), Verdict::Accepted { .. }));
    assert!(matches!(totp.check(&after, now, None), Verdict::Accepted { .. }));
    assert_eq!(totp.check(&far, now, None), Verdict::Wrong);
    for bad in ["", "12345", "1234567", "12345a", "１２３４５６"] {
        assert_eq!(totp.check(bad, now, None), Verdict::Malformed, "{bad:?}");
    }
    assert!(Totp::new(b"short", TotpPolicy::default()).is_err(), "under 128 bits");
    assert!(format!("{totp:?}").contains("redacted"));
}

fn service(store: Arc<MemoryMfaStore>) -> Mfa {
    Mfa::new(store, Sealer::new(KeyRing::new("k1", SealingKey::generate())))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_is_taken_once_even_by_two_sign_ins_racing_with_it() {
    let store = Arc::new(MemoryMfaStore::new());
    let mfa = service(store.clone());
    let tenant = TenantId::new("acme").expect("tenant");
    let enrolment = mfa.enroll(&tenant, "u1", "Acme", "ada@acme.example").await.expect("enrolled");
    assert!(enrolment.uri.expose_secret().starts_with("otpauth://totp/Acme:ada%40acme%2Eexample?secret="));
    assert!(!format!("{enrolment:?}").contains(enrolment.secret.expose_secret()));
    let totp = Totp::new(&enrolment.secret_bytes().expect("bytes"), TotpPolicy::default()).expect("a TOTP");
    let now = Utc::now();
    // Not confirmed yet: verification refuses.
    assert_eq!(
        mfa.verify(&tenant, "u1", &totp.code_at(now), now).await.expect("checked"),
        Verification::Refused(Refusal::NotEnrolled)
    );
    assert_eq!(mfa.confirm(&tenant, "u1", &totp.code_at(now), now).await.expect("checked"), Verification::Accepted);
    // The next step's code, by two sign-ins at once: one wins, one is a replay.
    let later = now + Duration::seconds(30);
    let code = totp.code_at(later);
    let (a, b) = tokio::join!(mfa.verify(&tenant, "u1", &code, later), mfa.verify(&tenant, "u1", &code, later));
    let mut outcomes = [a.expect("checked"), b.expect("checked")];
    outcomes.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(outcomes, [Verification::Accepted, Verification::Refused(Refusal::Replayed)]);
    // An older step's code is a replay too.
    assert_eq!(
        mfa.verify(&tenant, "u1", &totp.code_at(now), later).await.expect("checked"),
        Verification::Refused(Refusal::Replayed)
    );
    // The stored secret is sealed: no trace of it in the record.
    let record = store.load(&tenant, "u1").await.expect("loaded").expect("a record");
    assert!(!record.secret.contains(enrolment.secret.expose_secret()));
    // Another tenant's user of the same id has nothing.
    let other = TenantId::new("globex").expect("tenant");
    assert_eq!(
        mfa.verify(&other, "u1", &code, later).await.expect("checked"),
        Verification::Refused(Refusal::NotEnrolled)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_lock_and_recovery_codes_are_good_once() {
    let store = Arc::new(MemoryMfaStore::new());
    let mfa = service(store).with_lockout(Lockout::new(3, Duration::minutes(10)));
    let tenant = TenantId::new("acme").expect("tenant");
    let enrolment = mfa.enroll(&tenant, "u2", "Acme", "kai@acme.example").await.expect("enrolled");
    let totp = Totp::new(&enrolment.secret_bytes().expect("bytes"), TotpPolicy::default()).expect("a TOTP");
    let now = Utc::now();
    assert_eq!(mfa.confirm(&tenant, "u2", &totp.code_at(now), now).await.expect("checked"), Verification::Accepted);
    let wrong = if totp.code_at(now) == "000000" { "111111" } else { "000000" };
    for _ in 0..2 {
        assert_eq!(
            mfa.verify(&tenant, "u2", wrong, now).await.expect("checked"),
            Verification::Refused(Refusal::Wrong)
        );
    }
    assert_eq!(mfa.verify(&tenant, "u2", wrong, now).await.expect("checked"), Verification::Refused(Refusal::Wrong));
    // Locked: even the right code is refused until the lock ends.
    let next = now + Duration::seconds(30);
    let locked = mfa.verify(&tenant, "u2", &totp.code_at(next), next).await.expect("checked");
    assert!(matches!(locked, Verification::Refused(Refusal::Locked { until }) if until > next));
    let free = now + Duration::minutes(11);
    assert_eq!(mfa.verify(&tenant, "u2", &totp.code_at(free), free).await.expect("checked"), Verification::Accepted);

    // Recovery codes: any case, with or without dashes; each once.
    let code = enrolment.recovery_codes[0].expose().to_lowercase();
    assert_eq!(mfa.recover(&tenant, "u2", &code, free).await.expect("checked"), Verification::Accepted);
    assert_eq!(
        mfa.recover(&tenant, "u2", &code, free).await.expect("checked"),
        Verification::Refused(Refusal::UnknownRecoveryCode)
    );
    assert_eq!(mfa.recovery_codes_left(&tenant, "u2").await.expect("counted"), 9);
    // A new enrolment replaces the codes.
    mfa.enroll(&tenant, "u2", "Acme", "kai@acme.example").await.expect("enrolled again");
    let old = enrolment.recovery_codes[1].expose();
    assert_eq!(
        mfa.recover(&tenant, "u2", old, free).await.expect("checked"),
        Verification::Refused(Refusal::NotEnrolled),
        "unconfirmed"
    );
}
