//! `POST /events/{id}/replay`: the admin API's replay (the same function), behind a
//! confirmation, then back to the event page, which says what was queued and shows the new
//! deliveries as they run.

use super::Console;
use super::error::ConsoleError;
use super::form::Form;
use super::guard::secure_cookies;
use super::layout;
use super::session::Session;
use crate::admin::AdminState;
use crate::admin::replay::replay as replay_event;
use crate::store::EventDetail;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use maud::{Markup, html};
use uuid::Uuid;

/// Carries "what was just replayed" to the next view of the event page, once (a message in
/// the URL would be repeated by every reload and every shared link).
const FLASH_COOKIE: &str = "hookgate_flash";
/// Long enough for the redirect that follows the replay.
const FLASH_LIFETIME: CookieDuration = CookieDuration::minutes(1);

/// The replay action: a disclosure that names the destinations, all chosen, and a button
/// that confirms.
pub fn form(event: &EventDetail, destinations: &[&str], session: &Session) -> Markup {
    html! {
        details.replay {
            summary { "Replay…" }
            @if destinations.is_empty() {
                p.muted { "This event's source is no longer configured, or has no \
                    destinations: there is nothing to replay it to." }
            } @else {
                form method="post" action={ (super::events::PATH) "/" (event.id) "/replay" } {
                    (layout::csrf_field(session))
                    fieldset {
                        legend { "Deliver this event again (same Idempotency-Key) to:" }
                        @for destination in destinations {
                            label.check {
                                input type="checkbox" name="destination" value=(destination) checked;
                                " " (destination)
                            }
                        }
                    }
                    button type="submit" { "Confirm replay" }
                }
            }
        }
    }
}

/// Replays event `id` to the destinations ticked (all of its source's when the form sends
/// none) and goes back to its page.
pub async fn replay(
    req: HttpRequest,
    console: web::Data<Console>,
    admin: web::Data<AdminState>,
    session: Session,
    path: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, ConsoleError> {
    session.check_csrf(form.get("csrf"))?;
    let id = Uuid::parse_str(&path)
        .map_err(|_| ConsoleError::BadRequest(format!("{path:?} is not a hookgate event id")))?;
    let chosen = form.all("destination");
    let chosen = (!chosen.is_empty()).then_some(chosen);
    let deliveries = replay_event(&admin, id, chosen).await?;
    let names: Vec<&str> = deliveries.iter().map(|d| d.destination.as_str()).collect();
    let value = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&names).unwrap_or_default());
    let mut response = layout::see_other(&format!("{}/{id}", super::events::PATH));
    let secure = secure_cookies(&req, &console);
    let _ = response.add_cookie(&flash_cookie(id, value, secure));
    Ok(response)
}

/// The message of a replay just made, if the browser brings one (its cookie is scoped to the
/// event's page).
pub fn take_flash(req: &HttpRequest) -> Option<String> {
    let cookie = req.cookie(FLASH_COOKIE)?;
    let bytes = URL_SAFE_NO_PAD.decode(cookie.value()).ok()?;
    let names: Vec<String> = serde_json::from_slice(&bytes).ok()?;
    let (last, rest) = names.split_last()?;
    let list = match rest {
        [] => last.clone(),
        _ => format!("{} and {last}", rest.join(", ")),
    };
    Some(format!(
        "Replay queued to {list}: the new deliveries are below and update as they run."
    ))
}

/// Makes the browser forget the flash of event `id`.
pub fn clear_flash(response: &mut HttpResponse, id: Uuid) {
    let _ = response.add_removal_cookie(&flash_cookie(id, String::new(), false));
}

fn flash_cookie(id: Uuid, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(FLASH_COOKIE, value)
        .path(format!("{}/{id}", super::events::PATH))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(FLASH_LIFETIME)
        .finish()
}
