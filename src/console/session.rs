//! Console sessions without server-side storage: a cookie that carries its own expiry and a
//! random nonce, signed with a key derived from the admin token.
//!
//! Deriving the key from the token (rather than a random key per process) means every
//! instance that shares the token accepts the same sessions, and changing the token ends them
//! all: a cookie signed under another token fails its MAC. Only sign-outs are stored (see
//! `store/console_sessions.rs`), so a copied cookie dies with the session it was taken from.
//!
//! Formats (all base64url without padding; `.` separates fields):
//! - key  = HMAC-SHA256(key = admin token, "hookgate console session")
//! - cookie = `<expiry unix seconds>.<nonce>.<HMAC(key, "session.<expiry>.<nonce>")>`
//! - CSRF token = HMAC(key, "csrf.<nonce>"): tied to one session, so a form from a signed-out
//!   or foreign session is refused.
//! - sign-in form token = HMAC(key, "sign-in.<nonce>") for the nonce of a short-lived cookie
//!   set with the form (double submit), so the sign-in form is protected too.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

/// How long a session lasts from sign-in.
pub const SESSION_LIFETIME: Duration = Duration::hours(12);

/// Random bytes in a nonce: as many as a UUID, unguessable.
const NONCE_BYTES: usize = 16;

/// What a session cookie and its CSRF tokens are signed with.
pub struct SessionKey([u8; 32]);

/// A session whose cookie verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The cookie's nonce: what a sign-out records.
    pub nonce: String,
    pub expires_at: OffsetDateTime,
    /// The token every state-changing form of this session must carry.
    pub csrf: String,
}

impl SessionKey {
    /// The key of the admin token `token`.
    pub fn derive(token: &str) -> SessionKey {
        SessionKey(hmac(token.as_bytes(), &[b"hookgate console session"]))
    }

    /// Whether `token` is the admin token this key was derived from (in constant time).
    pub fn is_of_token(&self, token: &str) -> bool {
        bool::from(SessionKey::derive(token).0.ct_eq(&self.0))
    }

    /// A new session that expires [`SESSION_LIFETIME`] after `now`, and its cookie value.
    pub fn issue(&self, now: OffsetDateTime) -> (String, Session) {
        let nonce = new_nonce();
        let expiry = (now + SESSION_LIFETIME).unix_timestamp();
        let mac = self.session_mac(expiry, &nonce);
        let value = format!("{expiry}.{nonce}.{}", URL_SAFE_NO_PAD.encode(mac));
        (value, self.session(nonce, expiry))
    }

    /// The session `value` stands for, if its MAC is right and it has not expired at `now`.
    pub fn verify(&self, value: &str, now: OffsetDateTime) -> Option<Session> {
        let mut fields = value.split('.');
        let (Some(expiry), Some(nonce), Some(mac), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return None;
        };
        let expiry: i64 = expiry.parse().ok()?;
        let presented = URL_SAFE_NO_PAD.decode(mac).ok()?;
        let expected = self.session_mac(expiry, nonce);
        if !bool::from(presented.ct_eq(&expected)) || expiry <= now.unix_timestamp() {
            return None;
        }
        Some(self.session(nonce.to_owned(), expiry))
    }

    /// A nonce for the sign-in form's cookie and the token its form carries.
    pub fn sign_in_form(&self) -> (String, String) {
        let nonce = new_nonce();
        let token = self.sign_in_token(&nonce);
        (nonce, token)
    }

    /// Whether `token` is the sign-in form token of the cookie nonce `nonce`.
    pub fn accepts_sign_in_form(&self, nonce: &str, token: &str) -> bool {
        tokens_match(&self.sign_in_token(nonce), token)
    }

    fn sign_in_token(&self, nonce: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac(&self.0, &[b"sign-in.", nonce.as_bytes()]))
    }

    fn session_mac(&self, expiry: i64, nonce: &str) -> [u8; 32] {
        hmac(
            &self.0,
            &[
                b"session.",
                expiry.to_string().as_bytes(),
                b".",
                nonce.as_bytes(),
            ],
        )
    }

    fn session(&self, nonce: String, expiry: i64) -> Session {
        let csrf = URL_SAFE_NO_PAD.encode(hmac(&self.0, &[b"csrf.", nonce.as_bytes()]));
        Session {
            nonce,
            expires_at: OffsetDateTime::from_unix_timestamp(expiry)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            csrf,
        }
    }
}

impl Session {
    /// Whether `presented` is this session's CSRF token (compared in constant time).
    pub fn accepts_csrf(&self, presented: &str) -> bool {
        tokens_match(&self.csrf, presented)
    }
}

fn tokens_match(expected: &str, presented: &str) -> bool {
    bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

fn new_nonce() -> String {
    let mut bytes = [0u8; NONCE_BYTES];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap()
    }

    #[test]
    fn an_issued_cookie_verifies_until_it_expires() {
        let key = SessionKey::derive("admin-token");
        let (cookie, session) = key.issue(now());
        assert_eq!(key.verify(&cookie, now()), Some(session.clone()));
        let last_second = now() + SESSION_LIFETIME - Duration::seconds(1);
        assert!(key.verify(&cookie, last_second).is_some());
        assert!(key.verify(&cookie, now() + SESSION_LIFETIME).is_none());
        assert_eq!(session.expires_at, now() + SESSION_LIFETIME);
    }

    #[test]
    fn a_cookie_of_another_token_or_altered_is_refused() {
        let key = SessionKey::derive("admin-token");
        let (cookie, _) = SessionKey::derive("other-token").issue(now());
        assert!(key.verify(&cookie, now()).is_none());
        let (cookie, _) = key.issue(now());
        let fields: Vec<&str> = cookie.split('.').collect();
        let later = format!(
            "{}.{}.{}",
            fields[0].parse::<i64>().unwrap() + 1,
            fields[1],
            fields[2]
        );
        let other_nonce = format!("{}.AAAA{}.{}", fields[0], fields[1], fields[2]);
        for altered in [
            later,
            other_nonce,
            format!("{cookie}."),
            "1.2".into(),
            String::new(),
        ] {
            assert!(key.verify(&altered, now()).is_none(), "{altered}");
        }
    }

    #[test]
    fn a_key_knows_its_token() {
        let key = SessionKey::derive("admin-token");
        assert!(key.is_of_token("admin-token"));
        assert!(!key.is_of_token("admin-toke"));
        assert!(!key.is_of_token(""));
    }

    #[test]
    fn the_csrf_token_belongs_to_one_session() {
        let key = SessionKey::derive("admin-token");
        let (_, one) = key.issue(now());
        let (_, two) = key.issue(now());
        assert_ne!(one.nonce, two.nonce);
        assert!(one.accepts_csrf(&one.csrf));
        assert!(!one.accepts_csrf(&two.csrf));
        assert!(!one.accepts_csrf(""));
    }

    #[test]
    fn the_sign_in_form_token_matches_only_its_own_cookie() {
        let key = SessionKey::derive("admin-token");
        let (nonce, token) = key.sign_in_form();
        assert!(key.accepts_sign_in_form(&nonce, &token));
        let (other_nonce, _) = key.sign_in_form();
        assert!(!key.accepts_sign_in_form(&other_nonce, &token));
        assert!(!SessionKey::derive("other").accepts_sign_in_form(&nonce, &token));
    }
}
