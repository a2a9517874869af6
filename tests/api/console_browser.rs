//! The console as an operator uses it, in a real headless Chromium: sign in (a wrong token
//! refused, the right one accepted), find an event by its provider id, open it, read its
//! attempts, replay it and watch the new attempt reach a real sink, see new events arrive
//! without a reload, sign out and be refused. Screenshots at 1280 and 390 px wide go to
//! `.local/screenshots/` (`scripts/screenshots` copies the README's from there).

use crate::browser::{Browser, DESKTOP, PHONE};
use crate::helpers::*;
use crate::independent_sign as sign;
use crate::sink::{Reply, Sink};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

/// A Stripe-like event id: `evt_` and 24 letters and digits.
fn stripe_id() -> String {
    // The end of a v7 UUID is its random part.
    format!("evt_1Q{}", &uuid::Uuid::now_v7().simple().to_string()[10..])
}

/// Posts a signed Stripe event of type `event_type`; its hookgate id.
async fn post_stripe(app: &TestApp, provider_id: &str, event_type: &str) -> String {
    let body = serde_json::json!({
        "id": provider_id,
        "object": "event",
        "type": event_type,
        "data": {"object": {"customer": "cus_Q9xK2LmN", "amount_paid": 4200, "currency": "eur"}}
    })
    .to_string();
    let headers = sign::stripe(secrets::STRIPE, body.as_bytes(), now());
    let response = app.post("stripe", &headers, body).await;
    assert_eq!(response.status(), 202);
    json(response).await["id"].as_str().unwrap().to_owned()
}

async fn post_github_push(app: &TestApp) {
    let body = serde_json::json!({"ref": "refs/heads/main", "after": "9f1c2e7"}).to_string();
    let delivery = uuid::Uuid::now_v7().to_string();
    let headers = sign::github(secrets::GITHUB, body.as_bytes(), &delivery);
    assert_eq!(app.post("github", &headers, body).await.status(), 202);
}

async fn delivered(app: &TestApp, n: i64) {
    app.wait_count(
        "SELECT count(*) FROM deliveries WHERE state = 'delivered'",
        n,
        WAIT,
    )
    .await;
}

/// Whether the page is still the one `mark_page` marked: no navigation or reload since.
async fn same_page(browser: &Browser) -> bool {
    let mark = browser
        .client
        .execute("return window.hookgateTestMark === 42", vec![])
        .await
        .unwrap();
    mark == serde_json::json!(true)
}

async fn mark_page(browser: &Browser) {
    browser
        .client
        .execute("window.hookgateTestMark = 42", vec![])
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_finds_inspects_and_replays_an_event_in_a_browser() {
    let started = Instant::now();
    let billing = Sink::ok();
    // The ledger refuses its first request once: the event page shows a retry.
    let ledger = Sink::start(vec![Reply::status(503)], Reply::status(200));
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&billing.url, ""),
        ledger: Dest::at(&ledger.url, "backoff_base_ms = 300\nbackoff_max_ms = 300"),
        ..TestOptions::default()
    })
    .await;
    let target_id = stripe_id();
    let target = post_stripe(&app, &target_id, "invoice.paid").await;
    delivered(&app, 2).await;
    for event_type in ["customer.subscription.updated", "charge.succeeded"] {
        post_stripe(&app, &stripe_id(), event_type).await;
    }
    post_github_push(&app).await;
    for event_type in ["payment_intent.created", "invoice.finalized"] {
        post_stripe(&app, &stripe_id(), event_type).await;
    }
    delivered(&app, 12).await;

    let browser = Browser::start().await;
    let console = &app.admin;

    // Signing in: no session leads to the form; a wrong token is refused; the right one
    // leads back to the page asked for.
    browser.goto(&format!("{console}/events")).await;
    assert_eq!(browser.location().await, "/sign-in?next=%2Fevents");
    browser.fill("#token", "not-the-admin-token").await;
    browser.click(".sign-in button[type=submit]").await;
    browser
        .wait_for_text(".sign-in", "That is not the admin token.", WAIT)
        .await;
    assert!(browser.location().await.starts_with("/sign-in"));
    browser.fill("#token", ADMIN_TOKEN).await;
    browser.click(".sign-in button[type=submit]").await;
    browser.wait_for_text("h1", "Events", WAIT).await;
    assert_eq!(browser.location().await, "/events");
    assert_eq!(browser.find_all("#event-rows tr[data-id]").await.len(), 6);
    let time = browser.find("#event-rows time").await;
    let utc = time.attr("title").await.unwrap().unwrap();
    assert!(utc.ends_with(" UTC"), "{utc}");
    let local = time.text().await.unwrap();
    assert!(
        !local.contains("UTC") && !local.is_empty(),
        "in the browser's zone: {local}"
    );
    browser.screenshot("events").await;

    // New events come in at the top without a reload.
    mark_page(&browser).await;
    let arriving = stripe_id();
    post_stripe(&app, &arriving, "invoice.upcoming").await;
    browser
        .wait_for_text("#event-rows tr:first-child", &arriving, WAIT)
        .await;
    assert!(same_page(&browser).await, "the list updated in place");

    // Find the event by its provider id: the filter lands in the URL, alone.
    browser.fill("#f-provider-event-id", &target_id).await;
    browser.click("form.filters button[type=submit]").await;
    browser.wait_for_text("#event-rows", &target_id, WAIT).await;
    assert_eq!(
        browser.location().await,
        format!("/events?provider_event_id={target_id}")
    );
    assert_eq!(browser.find_all("#event-rows tr[data-id]").await.len(), 1);

    // Open it: metadata and every attempt, the ledger's failure and its retry included.
    browser.click("#event-rows tr[data-id] a").await;
    browser.wait_for_text("h1", "invoice.paid", WAIT).await;
    assert_eq!(browser.location().await, format!("/events/{target}"));
    let deliveries = browser.text("#deliveries").await;
    assert!(deliveries.contains("billing") && deliveries.contains("ledger"));
    assert!(deliveries.contains("HTTP 503"), "{deliveries}");
    assert_eq!(deliveries.matches("HTTP 200").count(), 2, "{deliveries}");
    assert!(
        browser
            .text("#payload-pretty")
            .await
            .contains(&format!("\"id\": \"{target_id}\""))
    );
    browser.screenshot("event").await;

    // Replay it to billing only, confirm, and watch the new attempt arrive on the page.
    browser.click("details.replay summary").await;
    browser
        .click("details.replay input[name=destination][value=ledger]")
        .await;
    browser.click("details.replay button[type=submit]").await;
    browser
        .wait_for_text(".message.success", "Replay queued to billing", WAIT)
        .await;
    mark_page(&browser).await;
    let of_target = |sink: &Sink| {
        sink.received()
            .iter()
            .filter(|r| r.header("idempotency-key") == target)
            .count()
    };
    billing.wait_for(8, WAIT).await;
    assert_eq!(
        of_target(&billing),
        2,
        "the original delivery and the replay"
    );
    browser
        .wait_for_text(
            "#deliveries article.delivery:last-of-type",
            "HTTP 200",
            WAIT,
        )
        .await;
    assert!(
        same_page(&browser).await,
        "the attempt appeared without a reload"
    );
    assert_eq!(
        browser.find_all("#deliveries article.delivery").await.len(),
        3
    );
    assert_eq!(
        of_target(&ledger),
        2,
        "the refused attempt and its retry, no replay"
    );

    // The phone width: the same pages, one column.
    browser.resize(PHONE).await;
    browser.goto(&format!("{console}/events/{target}")).await;
    browser.screenshot("event").await;
    browser.goto(&format!("{console}/events")).await;
    browser.wait_for_text("#event-rows", &arriving, WAIT).await;
    browser.screenshot("events").await;
    browser.resize(DESKTOP).await;

    // Sign out: the form again, every page refused, and the old cookie with them.
    let cookie = browser
        .client
        .get_named_cookie("hookgate_session")
        .await
        .unwrap();
    browser.click("form.sign-out button").await;
    browser.wait_for_text("main", "You signed out.", WAIT).await;
    browser.goto(&format!("{console}/events/{target}")).await;
    assert!(browser.location().await.starts_with("/sign-in?next="));
    let copied = http()
        .get(format!("{console}/events"))
        .header("cookie", format!("hookgate_session={}", cookie.value()))
        .send()
        .await
        .unwrap();
    assert!(
        copied.url().path().starts_with("/sign-in"),
        "{}",
        copied.url()
    );
    browser.close().await;
    eprintln!("console browser test took {:?}", started.elapsed());
}

/// Signs in through the form with the admin token and lands on `path`, titled `heading`.
async fn sign_in(browser: &Browser, console: &str, path: &str, heading: &str) {
    browser.goto(&format!("{console}{path}")).await;
    browser.fill("#token", ADMIN_TOKEN).await;
    browser.click(".sign-in button[type=submit]").await;
    browser.wait_for_text("h1", heading, WAIT).await;
    assert_eq!(browser.location().await, path);
}

/// The row of the table `table` whose first cell is `key`.
async fn row_of(browser: &Browser, table: &str, key: &str) -> fantoccini::elements::Element {
    for row in browser.find_all(&format!("{table} tbody tr")).await {
        if cells(&row).await.first().map(String::as_str) == Some(key) {
            return row;
        }
    }
    panic!("no row {key} in {table}");
}

/// The text of each cell of `row`.
async fn cells(row: &fantoccini::elements::Element) -> Vec<String> {
    let mut texts = Vec::new();
    for cell in row
        .find_all(fantoccini::Locator::Css("th, td"))
        .await
        .unwrap()
    {
        texts.push(cell.text().await.unwrap());
    }
    texts
}

/// Takes a screenshot of `path` at both widths (the page must show `marker` in `main`).
async fn screenshots(browser: &Browser, console: &str, path: &str, marker: &str, name: &str) {
    for size in [DESKTOP, PHONE] {
        browser.resize(size).await;
        browser.goto(&format!("{console}{path}")).await;
        browser.wait_for_text("main", marker, WAIT).await;
        browser.screenshot(name).await;
    }
    browser.resize(DESKTOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_redrives_dead_letters_and_watches_the_job_finish() {
    const DEAD: usize = 3;
    let started = Instant::now();
    // Billing refuses the first events once each, with no second attempt: they go dead. Then
    // it accepts, so the redrive delivers them.
    let billing = Sink::start(vec![Reply::status(500); DEAD], Reply::status(200));
    let ledger = Sink::ok();
    let app = spawn_app_with(TestOptions {
        billing: Dest::at(&billing.url, "max_attempts = 1"),
        ledger: Dest::at(&ledger.url, ""),
        ..TestOptions::default()
    })
    .await;
    let mut ids = Vec::new();
    for _ in 0..DEAD {
        ids.push(post_stripe(&app, &stripe_id(), "invoice.payment_failed").await);
        billing.wait_for(ids.len(), WAIT).await;
    }
    app.wait_count(
        "SELECT count(*) FROM deliveries WHERE state = 'dead'",
        DEAD as i64,
        WAIT,
    )
    .await;
    delivered(&app, DEAD as i64).await;

    let browser = Browser::start().await;
    let console = &app.admin;
    sign_in(&browser, console, "/dead-letters", "Dead letters").await;

    // Grouped by destination and by reason; every dead delivery listed.
    for (group, key) in [("#by-destination", "billing"), ("#by-reason", "HTTP 500")] {
        let rows = browser.find_all(&format!("{group} + table tbody tr")).await;
        assert_eq!(rows.len(), 1, "{group}");
        assert_eq!(
            browser.text(&format!("{group} + table tbody th")).await,
            key
        );
        let count = browser.text(&format!("{group} + table tbody td.num")).await;
        assert_eq!(count, DEAD.to_string(), "{group}");
    }
    assert_eq!(
        browser
            .find_all("table.list:not(.compact) tbody tr[data-id]")
            .await
            .len(),
        DEAD
    );
    screenshots(
        &browser,
        console,
        "/dead-letters",
        "By failure reason",
        "dead-letters",
    )
    .await;

    // Narrowed to billing through its group: the filter is in the URL.
    browser.click("#by-destination + table a").await;
    browser.wait_for_text("h1", "Dead letters", WAIT).await;
    assert_eq!(
        browser.location().await,
        "/dead-letters?destination=billing"
    );

    // The redrive says how many it takes before it is confirmed.
    browser.click("details.redrive summary").await;
    browser
        .wait_for_text(
            "details.redrive",
            &format!("This queues {DEAD} dead deliveries"),
            WAIT,
        )
        .await;
    browser.click("details.redrive button[type=submit]").await;

    // The job's page follows the progress to the end, without a reload.
    browser.wait_for_text("h1", "Replay", WAIT).await;
    assert!(browser.location().await.starts_with("/replays/"));
    mark_page(&browser).await;
    browser
        .wait_for_text(
            "#replay-progress",
            &format!("{DEAD} / {DEAD} (100 %)"),
            WAIT,
        )
        .await;
    browser
        .wait_for_text("#replay-progress", "completed", WAIT)
        .await;
    assert!(same_page(&browser).await, "the progress updated in place");
    let progress = browser.find("#replay-progress progress").await;
    assert_eq!(progress.attr("value").await.unwrap().as_deref(), Some("3"));
    let job = browser.location().await;
    screenshots(&browser, console, &job, "completed", "replay-job").await;

    // The sink receives each dead event again, with its Idempotency-Key, and accepts it.
    billing.wait_for(2 * DEAD, WAIT).await;
    let received = billing.received();
    for id in &ids {
        let times = received
            .iter()
            .filter(|r| r.header("idempotency-key") == id)
            .count();
        assert_eq!(times, 2, "the dead attempt and the redrive of {id}");
    }
    delivered(&app, 2 * DEAD as i64).await;

    // The dead letters are gone, and the job is listed, requested from the console.
    browser.goto(&format!("{console}/dead-letters")).await;
    browser.wait_for_text("main", "No dead letters", WAIT).await;
    screenshots(
        &browser,
        console,
        "/dead-letters",
        "No dead letters",
        "dead-letters-empty",
    )
    .await;
    browser.goto(&format!("{console}/replays")).await;
    let row = browser.text("#replay-rows tr[data-id]").await;
    for expected in [
        "completed",
        &format!("{DEAD} / {DEAD}"),
        "dead deliveries to billing",
        "console",
    ] {
        assert!(row.contains(expected), "{expected}: {row}");
    }
    screenshots(&browser, console, "/replays", "Replay jobs", "replays").await;

    // The overview: the last hour per source and per destination, from the per-minute
    // activity every process writes (within seconds; the page refreshes itself).
    browser.goto(&format!("{console}/")).await;
    browser
        .wait_for_text("#o-destinations + table", "50.0 %", WAIT)
        .await;
    let billing_row = cells(&row_of(&browser, "#o-destinations + table", "billing").await).await;
    assert_eq!(billing_row[1], "50.0 %", "billing: 3 refused, 3 redriven");
    assert!(
        billing_row[2].starts_with('≤'),
        "latencies: {}",
        billing_row[2]
    );
    assert_eq!(billing_row[3], "circuit closed");
    let ledger_row = cells(&row_of(&browser, "#o-destinations + table", "ledger").await).await;
    assert_eq!(ledger_row[1], "100.0 %");
    let stripe = row_of(&browser, "#o-sources + table", "stripe").await;
    assert_eq!(
        cells(&stripe).await[1..4],
        ["3", "0", "0"][..],
        "accepted, duplicate, rejected"
    );
    assert!(
        !browser.find_all("#overview svg rect.bar").await.is_empty(),
        "the charts have bars"
    );
    screenshots(&browser, console, "/", "Delivery attempts", "overview").await;

    // Sources and destinations: their settings and counts, never a secret.
    browser.goto(&format!("{console}/sources")).await;
    let source = browser.text("section[aria-labelledby=s-stripe]").await;
    for expected in ["2 configured", "300 s", "billing\nledger", "3 accepted"] {
        assert!(source.contains(expected), "{expected}: {source}");
    }
    assert!(!source.contains(secrets::STRIPE));
    screenshots(&browser, console, "/sources", "Sources", "sources").await;
    browser.goto(&format!("{console}/destinations")).await;
    let destination = browser.text("section[aria-labelledby=d-billing]").await;
    for expected in ["up to 1,", "50.0 %", "circuit closed", billing.url.as_str()] {
        assert!(destination.contains(expected), "{expected}: {destination}");
    }
    screenshots(
        &browser,
        console,
        "/destinations",
        "Destinations",
        "destinations",
    )
    .await;

    // An address that is no page: a page that says so, inside the console.
    browser.goto(&format!("{console}/no-such-page")).await;
    browser
        .wait_for_text("main", "no page at this address", WAIT)
        .await;
    assert!(
        !browser
            .find_all("nav[aria-label=Console] a")
            .await
            .is_empty()
    );
    screenshots(&browser, console, "/no-such-page", "no page", "not-found").await;

    browser.close().await;
    eprintln!("console redrive browser test took {:?}", started.elapsed());
}
