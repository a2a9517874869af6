//! Verification takes as long whether a forged signature gets no leading byte right or all but
//! the last: otherwise an attacker could find a valid signature byte by byte by timing
//! (hookgate compares decoded bytes with `subtle::ConstantTimeEq`).
//!
//! The statistic: the GitHub provider (HMAC-SHA256, hex) verifies two forged signatures of
//! the same body, one wrong in every byte and one wrong only in its last byte. Each round
//! times a batch of `BATCH` calls of each, in an order randomised per round, `ROUNDS` rounds;
//! the statistic is the median of the per-round differences, relative to the median time.
//! Pairing within a round cancels what changes slowly (frequency, a busy neighbour, which core)
//! and the median ignores the rounds an interrupt hit. Each wrong byte is the right one with
//! its lowest bit flipped, so both hex texts decode with the same work: the one difference is
//! where the first wrong byte is.
//!
//! The bound, 1% (about 67 ns of some 6.7 µs per verification in a debug build), is generous:
//! hookgate measures between −19 and +2 ns (−0.28% to +0.04%) over runs and rebuilds, with
//! other builds or three CPU hogs on the two cores (a fixed offset of either sign that moves
//! with code layout, not with the leading bytes). It is meaningful: a verifier followed by a
//! byte-by-byte early-exit comparison, as hand-written comparisons are, measures +210 to
//! +280 ns (+3.0% to +3.9%), and hookgate with its
//! `ConstantTimeEq` swapped for such a loop measured +243 ns (+4.0%) and failed. The test
//! measures that contrast in every run and fails if it cannot see it, since a measurement that
//! cannot see the leak proves nothing.
//!
//! What it cannot see: Rust's `==` on byte slices is a `memcmp` that compares whole words; its
//! early exit over 32 bytes costs under a nanosecond, and hookgate with `==` in place of
//! `ConstantTimeEq` measured +0.1 ns and passed. That regression is for review to catch.
//!
//! A test binary of its own, so no other test runs beside it.

use hmac::{Hmac, Mac};
use hookgate::verify::{Provider, Request, SecretKey, SourceOptions};
use std::hint::black_box;
use std::time::Instant;

const ROUNDS: usize = 20_000;
const BATCH: u32 = 8;
/// The largest accepted difference of the medians, as a fraction of the median.
const BOUND: f64 = 0.01;

const SECRET: &str = "It's a Secret to Everybody";
const BODY: &[u8] = br#"{"action":"opened","number":1}"#;

/// The two forged signatures: wrong in every byte, and wrong only in the last.
fn forgeries() -> [Vec<u8>; 2] {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key");
    mac.update(BODY);
    let genuine = mac.finalize().into_bytes().to_vec();
    let none_right = genuine.iter().map(|byte| byte ^ 1).collect();
    let mut all_but_last = genuine;
    *all_but_last.last_mut().expect("32 bytes") ^= 1;
    [none_right, all_but_last]
}

/// Per-call nanoseconds of each forgery, round by round (`[none right, all but last right]`),
/// verified by `provider` and then passed to `extra` (a comparison to contrast with, or
/// nothing).
fn measure(
    provider: &Provider,
    keys: &[SecretKey],
    extra: impl Fn(&[u8]) -> bool,
) -> [Vec<f64>; 2] {
    let forgeries = forgeries();
    let headers: Vec<Vec<(String, String)>> = forgeries
        .iter()
        .map(|signature| {
            let value = format!("sha256={}", hex::encode(signature));
            vec![("X-Hub-Signature-256".to_string(), value)]
        })
        .collect();
    let mut samples = [Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS)];
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for _ in 0..ROUNDS {
        let first = rng.usize(0..2);
        for variant in [first, 1 - first] {
            let request = Request {
                headers: &headers[variant],
                body: BODY,
                url: "http://127.0.0.1/webhooks/github",
                now_unix: 0,
                options: SourceOptions::NONE,
                certificate: None,
            };
            let started = Instant::now();
            for _ in 0..BATCH {
                let verdict = provider.verify(black_box(&request), keys, None);
                assert!(black_box(verdict).is_err(), "a forgery verified");
                black_box(extra(black_box(&forgeries[variant])));
            }
            samples[variant].push(started.elapsed().as_nanos() as f64 / f64::from(BATCH));
        }
    }
    samples
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn trimmed_mean(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let cut = values.len() / 10;
    let kept = &values[cut..values.len() - cut];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// The statistic: the median of the per-round differences (all but last right minus none
/// right), relative to the median time; printed with the medians and trimmed means.
fn report(what: &str, [none, most]: [Vec<f64>; 2]) -> f64 {
    let differences = none.iter().zip(&most).map(|(a, b)| b - a).collect();
    let difference = median(differences);
    let typical = median(none.clone());
    println!(
        "{what}: median {typical:.1} / {:.1} ns (no leading byte right / all but the last), \
         trimmed means {:.1} / {:.1} ns; median paired difference {difference:+.1} ns ({:+.2}%)",
        median(most.clone()),
        trimmed_mean(none),
        trimmed_mean(most),
        difference / typical * 100.0
    );
    difference / typical
}

/// A comparison that stops at the first differing byte: the leak the statistic must see.
fn early_exit_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return false;
        }
    }
    true
}

#[test]
fn verification_time_does_not_depend_on_how_many_leading_signature_bytes_are_right() {
    let provider = Provider::parse("github", include_str!("../providers/github.toml"))
        .expect("the shipped GitHub provider");
    let keys = [provider.secret_key(SECRET).expect("a raw secret")];
    let genuine = {
        let [mut genuine, _] = forgeries();
        genuine.iter_mut().for_each(|byte| *byte ^= 1);
        genuine
    };

    let hookgate = report("hookgate", measure(&provider, &keys, |_| false));
    let naive = report(
        "hookgate + an early-exit byte comparison",
        measure(&provider, &keys, |forgery| early_exit_eq(&genuine, forgery)),
    );
    println!("bound: {:.2}%", BOUND * 100.0);

    assert!(
        naive > BOUND,
        "this machine is too noisy for the statistic to see an early-exit comparison \
         ({:+.2}%), so it cannot vouch for hookgate's either",
        naive * 100.0
    );
    assert!(
        hookgate.abs() < BOUND,
        "verification time depends on how many leading bytes are right: {:+.2}%",
        hookgate * 100.0
    );
}
