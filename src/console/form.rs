//! A submitted HTML form (`application/x-www-form-urlencoded`), read by hand so that a
//! missing field is the handler's decision (a CSRF refusal, a message) rather than a bare
//! extractor error, and a repeated field (checkboxes) keeps every value.

use super::error::ConsoleError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

/// The largest form the console accepts; its forms are a few short fields.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The fields of a submitted form, in order.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Parses an urlencoded body.
    pub fn parse(body: &[u8]) -> Form {
        Form(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of field `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }
}

impl FromRequest for Form {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Form, ConsoleError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body
                .await
                .map_err(|err| ConsoleError::BadRequest(format!("form: {err}")))?;
            if body.len() > MAX_FORM_BYTES {
                return Err(ConsoleError::BadRequest("form too large".into()));
            }
            Ok(Form::parse(&body))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_and_repeated_ones_keep_every_value() {
        let form = Form::parse(b"csrf=a%2Bb&destination=billing&destination=ledger&next=%2Fe");
        assert_eq!(form.get("csrf"), Some("a+b"));
        assert_eq!(form.get("next"), Some("/e"));
        assert_eq!(form.all("destination"), ["billing", "ledger"]);
        assert_eq!(form.get("missing"), None);
        assert!(form.all("missing").is_empty());
    }
}
