//! Shared secrets that a request carries as they are (a token, `user:password`): kept as their
//! SHA-256, so that comparing what a request sends takes the same time whatever its length and
//! wherever it differs.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::SecretKey;
use super::error::Invalid;
use super::key::SecretEncoding;
use super::schema::ProviderFile;

/// The key for one configured shared secret.
pub(super) fn key(secret: &[u8]) -> SecretKey {
    SecretKey::shared(Sha256::digest(secret).to_vec())
}

/// The index of the first key equal to `sent`; every key is compared in constant time.
pub(super) fn matching(keys: &[SecretKey], sent: &[u8]) -> Option<usize> {
    let sent = Sha256::digest(sent);
    keys.iter().position(|key| {
        key.shared_bytes()
            .is_some_and(|digest| bool::from(digest.ct_eq(sent.as_slice())))
    })
}

/// Tokens and passwords are compared as sent, so a `[secret] encoding` would only mislead.
pub(super) fn reject_encoded(file: &ProviderFile, scheme: &str) -> Result<(), Invalid> {
    Invalid::reject_if(
        file.secret.encoding != SecretEncoding::Raw,
        "secret.encoding",
        &format!("by scheme = \"{scheme}\" (the secret is compared as it is sent)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_match_and_others_do_not() {
        let keys = [key(b"old-token"), key(b"new-token")];
        assert_eq!(matching(&keys, b"new-token"), Some(1));
        assert_eq!(matching(&keys, b"old-token"), Some(0));
        for other in [&b""[..], b"new-toke", b"new-token ", b"NEW-TOKEN"] {
            assert_eq!(matching(&keys, other), None, "{other:?}");
        }
        assert_eq!(matching(&[], b"new-token"), None);
    }
}
