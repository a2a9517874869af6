//! `/healthz` (the process answers) and `/readyz` (the database answers; Redis reported).

use crate::redis_link::RedisLink;
use crate::store::Store;
use actix_web::{HttpResponse, web};
use serde_json::json;
use std::time::Duration;

/// How long readiness waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// What readiness checks.
pub struct HealthState {
    pub store: Store,
    pub redis: Option<RedisLink>,
}

/// Registers both health routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<HealthState>) -> HttpResponse {
    let database_up = matches!(
        tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await,
        Ok(Ok(()))
    );
    let redis = match &state.redis {
        None => "not_configured",
        Some(redis) if redis.ping().await => "up",
        Some(_) => "degraded",
    };
    let status = match (database_up, redis) {
        (false, _) => "unavailable",
        (true, "degraded") => "degraded",
        (true, _) => "ready",
    };
    let body = json!({
        "status": status,
        "database": if database_up { "up" } else { "down" },
        "redis": redis,
    });
    if database_up {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", crate::problem::RETRY_AFTER_SECS.to_string()))
            .json(body)
    }
}
