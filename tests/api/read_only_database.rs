//! Postgres refusing writes (its database flipped to read-only, as a full disk or a failover
//! leaves it): ingest answers 503 with Retry-After and never a 2xx, and recovers without a
//! restart once writes return; every acknowledged event is delivered.

use crate::drill::figures;
use crate::helpers::*;
use crate::sink::Sink;
use sqlx::{Connection, Executor, PgConnection};
use std::time::Duration;

/// Sets the test database's default for new sessions and ends its current ones, so that every
/// connection hookgate makes next has it.
async fn set_read_only(database: &TestDatabase, read_only: bool) {
    let name = database
        .url
        .rsplit('/')
        .next()
        .and_then(|rest| rest.split('?').next())
        .unwrap();
    let mut admin = PgConnection::connect(&server_url()).await.unwrap();
    let setting = if read_only {
        "SET default_transaction_read_only = on"
    } else {
        "RESET default_transaction_read_only"
    };
    admin
        .execute(format!(r#"ALTER DATABASE "{name}" {setting}"#).as_str())
        .await
        .unwrap();
    admin
        .execute(
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            )
            .as_str(),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_gets_503s_then_recovers_without_a_restart() {
    let sink = Sink::ok();
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&sink.url, ""),
        ..Default::default()
    })
    .await;
    let mut acked = 0;
    assert_eq!(app.post_new_github().await.status(), 202);
    acked += 1;

    set_read_only(&app.database, true).await;
    const REFUSED: usize = 10;
    for _ in 0..REFUSED {
        let refused = app.post_new_github().await;
        assert_eq!(refused.status(), 503, "writes are refused: never a 2xx");
        assert!(refused.headers().contains_key("retry-after"));
    }

    set_read_only(&app.database, false).await;
    app.wait_until_accepting().await;
    acked += 1;
    let delivered = sink.wait_for(acked, Duration::from_secs(30)).await;
    assert_eq!(
        delivered.len(),
        acked,
        "every acknowledged event is delivered"
    );
    figures(
        "read-only-database",
        &[
            ("answered_503", REFUSED.to_string()),
            ("acked", acked.to_string()),
            ("delivered", delivered.len().to_string()),
        ],
    );
    app.stop().await;
}
