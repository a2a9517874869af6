//! Hostile requests as a table: each named case is raw bytes on a fresh connection with the
//! answers a correct gateway gives, and why. Then thousands of mutations of correctly signed
//! requests, none of which may be stored unless it means exactly what was signed.

mod body_cases;
mod campaign;
mod head_cases;
mod meaning;
mod mutation;
mod originals;
mod table;

use crate::helpers::*;
use crate::independent_sign as sign;
use crate::raw_http::RawRequest;
use hookgate::app::Role;
use std::time::Instant;

/// Where the cases are sent, and the requests they start from.
pub struct Target {
    /// `127.0.0.1:<port>` of the ingest listener: the address and the `Host` header.
    pub host: String,
}

impl Target {
    /// A correctly signed GitHub webhook with a fresh body and delivery id.
    pub fn github(&self) -> RawRequest {
        self.github_with(unique_body().as_bytes())
    }

    /// A correctly signed GitHub webhook carrying `body`, with a fresh delivery id.
    pub fn github_with(&self, body: &[u8]) -> RawRequest {
        let delivery = uuid::Uuid::now_v7().to_string();
        RawRequest::post("/webhooks/github")
            .headers(&sign::github(secrets::GITHUB, body, &delivery))
            .body(body)
    }

    /// A JSON webhook to `source` with no signature at all.
    pub fn unsigned(&self, source: &str) -> RawRequest {
        RawRequest::post(format!("/webhooks/{source}"))
            .header("Content-Type", "application/json")
            .body(unique_body())
    }

    pub fn bytes(&self, request: &RawRequest) -> Vec<u8> {
        request.bytes(&self.host)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_request_gets_the_answer_a_correct_gateway_gives_and_nothing_unsigned_is_stored()
 {
    let database = create_database(&server_url()).await;
    // Bodies that stop arriving are cut off after a second instead of the default 30.
    let text = default_config_text(&database.url).replace(
        "max_body_bytes = 65536",
        "max_body_bytes = 65536\nrequest_timeout_ms = 1000",
    );
    let app = start(&text, database, Role::default()).await;
    let target = Target {
        host: app.ingest.trim_start_matches("http://").to_owned(),
    };
    let mut cases = head_cases::cases(&target);
    cases.extend(body_cases::cases(&target));

    let started = Instant::now();
    let mut failures = Vec::new();
    for case in &cases {
        let answers = case.run(&target.host).await;
        let mismatches = case.mismatches(&answers);
        let verdict = if mismatches.is_empty() { "ok" } else { "WRONG" };
        println!("{verdict:5} {} — {:?}", case.name, case.expect);
        if !mismatches.is_empty() {
            failures.push(format!(
                "{} ({}): {}",
                case.name,
                case.why,
                mismatches.join("; ")
            ));
        }
    }
    println!(
        "{} cases in {:.1} s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(cases.len() >= 40, "the table has {} cases", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    assert_eq!(
        app.post_new_github().await.status(),
        202,
        "still serving after the table"
    );
    let stored: usize = cases.iter().map(|case| case.stores()).sum::<usize>() + 1;
    assert_eq!(
        app.count("SELECT count(*) FROM events").await,
        stored as i64,
        "exactly the correctly signed events are stored"
    );
    app.stop().await;
}
