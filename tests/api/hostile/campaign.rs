//! Thousands of mutated, once correctly signed requests over keep-alive connections: never a
//! 5xx, never a 2xx for anything forged, and exactly the accepted ones stored.

use super::meaning::{Verdict, has_control_bytes, verdict};
use super::mutation::Mutation;
use super::originals::{Original, PROVIDERS, Senders};
use crate::helpers::*;
use crate::raw_http::{Answer, RawConnection};
use std::collections::BTreeMap;
use std::time::Instant;

const MUTATIONS: usize = 7_000;
const CONNECTIONS: usize = 8;

/// One mutated request, ready to send.
struct Job {
    provider: &'static str,
    mutation: Mutation,
    verdict: Verdict,
    accepted: u16,
    bytes: Vec<u8>,
    /// Framing intact (no control bytes in the head): the connection can carry the next one.
    reusable: bool,
}

fn job(senders: &Senders, provider: &'static str, rng: &mut fastrand::Rng) -> Job {
    let Original {
        mut request,
        signed,
        body,
        accepted,
    } = senders.original(provider);
    let fields: Vec<(usize, usize)> = signed
        .iter()
        .map(|(at, _)| (request.headers[*at].1.len(), request.headers[*at].0.len()))
        .collect();
    let mutation = Mutation::random(rng, &fields, request.body.len());
    let values: Vec<&[u8]> = signed
        .iter()
        .map(|(at, _)| &request.headers[*at].1[..])
        .collect();
    let names: Vec<&[u8]> = signed
        .iter()
        .map(|(at, _)| &request.headers[*at].0[..])
        .collect();
    let syntaxes: Vec<_> = signed.iter().map(|(_, syntax)| *syntax).collect();
    let verdict = verdict(&mutation, &values, &names, &syntaxes, (&request.body, body));
    match mutation {
        Mutation::Value { field, edit } => {
            let value = &mut request.headers[signed[field].0].1;
            *value = edit.apply(value);
        }
        Mutation::Name { field, edit } => {
            let name = &mut request.headers[signed[field].0].0;
            *name = edit.apply(name);
        }
        Mutation::Repeated {
            field,
            edit,
            edited_first,
        } => {
            let at = signed[field].0;
            let (name, value) = request.headers[at].clone();
            let copy = edit.map_or(value.clone(), |edit| edit.apply(&value));
            let (first, second) = if edited_first {
                (copy, value)
            } else {
                (value, copy)
            };
            request.headers[at].1 = first;
            request.headers.insert(at + 1, (name, second));
        }
        Mutation::Body(edit) => request.body = edit.apply(&request.body),
    }
    let reusable = !request
        .headers
        .iter()
        .any(|(name, value)| has_control_bytes(name) || has_control_bytes(value));
    Job {
        provider,
        mutation,
        verdict,
        accepted,
        bytes: request.bytes(&senders.host),
        reusable,
    }
}

/// Sends `jobs` one after another over keep-alive connections, opening a new one where the
/// last was closed or could not carry another request.
async fn send_all(host: String, jobs: Vec<Job>) -> Vec<(Job, Answer)> {
    let mut connection: Option<RawConnection> = None;
    let mut answered = Vec::with_capacity(jobs.len());
    for job in jobs {
        let reused = connection.is_some();
        let mut open = match connection.take() {
            Some(open) => open,
            None => RawConnection::open(&host).await,
        };
        let mut answer = open.exchange(&job.bytes).await;
        if reused && matches!(answer, Answer::Closed) {
            // The server closed the idle connection before reading the request: resend.
            open = RawConnection::open(&host).await;
            answer = open.exchange(&job.bytes).await;
        }
        if let Answer::Response(response) = &answer
            && job.reusable
            && !response.closes()
            && response.status != 400
        {
            connection = Some(open);
        }
        answered.push((job, answer));
    }
    answered
}

/// Why an answer is wrong for its job; `None` when it is right.
fn wrong(job: &Job, answer: &Answer) -> Option<String> {
    let Answer::Response(response) = answer else {
        return Some(format!("{answer:?}"));
    };
    let status = response.status;
    let refused = (400..500).contains(&status);
    let right = match job.verdict {
        Verdict::Identical => status == job.accepted,
        Verdict::Equivalent => status == job.accepted || refused,
        Verdict::Forged => refused,
    };
    (!right).then(|| format!("{status} {}", String::from_utf8_lossy(&response.body)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_mutated_signatures_and_bodies_are_never_stored_and_never_a_server_error() {
    let mut senders = Senders::new();
    let app = spawn_app_with(TestOptions {
        extra_config: senders.discord_source(),
        ..TestOptions::default()
    })
    .await;
    senders.host = app.ingest.trim_start_matches("http://").to_owned();
    let seed = std::env::var("HOOKGATE_MUTATION_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    println!("mutation seed {seed} (set HOOKGATE_MUTATION_SEED to repeat)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut batches: Vec<Vec<Job>> = (0..CONNECTIONS).map(|_| Vec::new()).collect();
    for i in 0..MUTATIONS {
        let provider = PROVIDERS[i % PROVIDERS.len()];
        batches[i % CONNECTIONS].push(job(&senders, provider, &mut rng));
    }

    let started = Instant::now();
    let senders: Vec<_> = batches
        .into_iter()
        .map(|batch| tokio::spawn(send_all(senders.host.clone(), batch)))
        .collect();
    let mut answered = Vec::new();
    for sender in senders {
        answered.extend(sender.await.expect("sender"));
    }
    let elapsed = started.elapsed();

    let mut tally: BTreeMap<(&str, Verdict, Option<u16>), usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (job, answer) in &answered {
        *tally
            .entry((job.provider, job.verdict, answer.status()))
            .or_default() += 1;
        if let Some(why) = wrong(job, answer) {
            failures.push(format!(
                "{} {:?} ({:?}): {why}",
                job.provider, job.mutation, job.verdict
            ));
        }
    }
    for ((provider, verdict, status), count) in &tally {
        println!("{provider:18} {verdict:10?} {status:?}: {count}");
    }
    println!(
        "{} mutations in {:.1} s",
        answered.len(),
        elapsed.as_secs_f64()
    );
    assert_eq!(answered.len(), MUTATIONS);
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );

    let accepted = answered
        .iter()
        .filter(|(_, answer)| answer.status().is_some_and(|s| (200..300).contains(&s)))
        .count();
    assert_eq!(
        app.count("SELECT count(*) FROM events").await,
        accepted as i64,
        "stored exactly the mutations that were accepted (each mutated a different event)"
    );
    assert_eq!(app.post_new_github().await.status(), 202, "still serving");
    app.stop().await;
}
