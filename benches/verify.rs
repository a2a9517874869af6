//! Verification cost per provider scheme on 1 KB and 64 KB bodies, and the cost of loading
//! every provider file. Run with `cargo bench --bench verify`.

use std::hint::black_box;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hookgate::verify::{ProviderRegistry, Request, SourceOptions};

/// One scheme to measure: the provider file, a secret in its format, and how bodies look.
struct Case {
    provider: &'static str,
    secret: &'static str,
    /// Twilio signs the URL and the form fields, so its bodies are forms.
    form: bool,
}

const CASES: &[Case] = &[
    Case {
        provider: "stripe",
        secret: "whsec_bench_secret",
        form: false,
    },
    Case {
        provider: "github",
        secret: "bench-secret",
        form: false,
    },
    Case {
        provider: "standard-webhooks",
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        form: false,
    },
    Case {
        provider: "twilio",
        secret: "bench-auth-token",
        form: true,
    },
];

const URL: &str = "https://hooks.example.com/webhooks/bench";
const SIZES: &[(usize, &str)] = &[(1024, "1KB"), (64 * 1024, "64KB")];

fn providers_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/providers"))
}

/// A body of exactly `size` bytes: JSON, or a form for Twilio.
fn body(size: usize, form: bool) -> Vec<u8> {
    let (head, tail): (&[u8], &[u8]) = if form {
        (b"From=%2B15551234567&To=%2B15557654321&Body=", b"")
    } else {
        (
            br#"{"id":"evt_bench","type":"bench.event","padding":""#,
            br#""}"#,
        )
    };
    let mut body = head.to_vec();
    body.resize(size - tail.len(), b'x');
    body.extend_from_slice(tail);
    body
}

fn verify(c: &mut Criterion) {
    let registry = ProviderRegistry::load_dir(providers_dir()).expect("providers load");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    let mut group = c.benchmark_group("verify");
    for case in CASES {
        let provider = registry.get(case.provider).expect("provider file exists");
        let keys = [provider.secret_key(case.secret).expect("secret decodes")];
        for &(size, label) in SIZES {
            let body = body(size, case.form);
            let signed = provider
                .sign(&body, case.secret, URL, now)
                .expect("provider signs");
            let request = Request {
                headers: &signed.headers,
                body: &signed.body,
                url: URL,
                now_unix: now,
                options: SourceOptions::NONE,
                certificate: None,
            };
            provider
                .verify(&request, &keys, None)
                .expect("a signed request verifies");
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(
                BenchmarkId::new(case.provider, label),
                &request,
                |b, request| b.iter(|| provider.verify(black_box(request), &keys, None)),
            );
        }
    }
    group.finish();
}

fn load_providers(c: &mut Criterion) {
    c.bench_function("ProviderRegistry::load_dir", |b| {
        b.iter(|| ProviderRegistry::load_dir(black_box(providers_dir())).expect("providers load"))
    });
}

criterion_group!(benches, verify, load_providers);
criterion_main!(benches);
