//! What a provider's signing secrets look like, so `check-config` can warn when a configured
//! secret is obviously another credential (an API key pasted where the webhook secret belongs).

use super::error::Invalid;
use super::schema::{SecretSpec, WrongPrefixSpec as WrongPrefix};

/// The `[secret]` table's `expected_prefixes` and `wrong_prefixes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SecretHints {
    expected: Vec<String>,
    wrong: Vec<WrongPrefix>,
}

impl SecretHints {
    pub(super) fn compile(spec: &SecretSpec) -> Result<SecretHints, Invalid> {
        let empty = "must not contain an empty prefix: every secret starts with it";
        if spec.expected_prefixes.iter().any(String::is_empty) {
            return Err(Invalid::new("secret.expected_prefixes", empty));
        }
        if spec
            .wrong_prefixes
            .iter()
            .any(|wrong| wrong.prefix.is_empty())
        {
            return Err(Invalid::new("secret.wrong_prefixes", empty));
        }
        Ok(SecretHints {
            expected: spec.expected_prefixes.clone(),
            wrong: spec.wrong_prefixes.clone(),
        })
    }

    /// Why `secret` is probably not this provider's signing secret, if it obviously is not. The
    /// answer names prefixes from the provider file, never the secret.
    pub(super) fn warning(&self, secret: &str) -> Option<String> {
        let expected = match self.expected.as_slice() {
            [] => String::new(),
            prefixes => format!(" (which starts with {})", prefixes.join(" or ")),
        };
        if let Some(wrong) = self
            .wrong
            .iter()
            .find(|wrong| secret.starts_with(&wrong.prefix))
        {
            return Some(format!(
                "starts with {}: this looks like {}, not the webhook signing secret{expected}",
                wrong.prefix, wrong.what
            ));
        }
        let unexpected = !self.expected.is_empty()
            && !self
                .expected
                .iter()
                .any(|prefix| secret.starts_with(prefix));
        unexpected.then(|| format!("does not look like the webhook signing secret{expected}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripe() -> SecretHints {
        SecretHints {
            expected: vec!["whsec_".into()],
            wrong: vec![WrongPrefix {
                prefix: "sk_test_".into(),
                what: "a Stripe secret API key".into(),
            }],
        }
    }

    #[test]
    fn a_known_wrong_prefix_says_what_the_secret_is_without_showing_it() {
        let warning = stripe()
            .warning("sk_test_4eC39HqLyjWDarjtT1zdp7dc")
            .unwrap();
        assert_eq!(
            warning,
            "starts with sk_test_: this looks like a Stripe secret API key, \
             not the webhook signing secret (which starts with whsec_)"
        );
        assert!(!warning.contains("4eC39"));
    }

    #[test]
    fn a_secret_without_the_expected_prefix_is_questioned() {
        assert_eq!(
            stripe().warning("0123456789abcdef").as_deref(),
            Some("does not look like the webhook signing secret (which starts with whsec_)")
        );
    }

    #[test]
    fn a_secret_of_the_expected_form_or_a_provider_without_hints_passes() {
        assert_eq!(stripe().warning("whsec_abc"), None);
        assert_eq!(SecretHints::default().warning("anything"), None);
    }
}
