//! Framework-independent header lookup.

/// Case-insensitive header lookup, so verification stays independent of the HTTP framework.
pub trait HeaderSource {
    /// The value of header `name` (ASCII case-insensitive), if present; the first when repeated.
    fn header(&self, name: &str) -> Option<&[u8]>;

    /// Whether header `name` was sent more than once. Verification refuses a request in which
    /// a header it reads is repeated: which copy counts would otherwise be a choice that a
    /// sender, or a proxy that keeps the last copy where hookgate keeps the first, could steer.
    fn is_repeated(&self, name: &str) -> bool;
}

/// Name and value pairs; values as text or as raw bytes (which a fuzzer or a test that
/// changes single bytes may need).
impl<V: AsRef<[u8]>> HeaderSource for [(String, V)] {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_ref())
    }

    fn is_repeated(&self, name: &str) -> bool {
        self.iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .nth(1)
            .is_some()
    }
}

/// A `Vec` of pairs, so `&Vec<(String, String)>` coerces to `&dyn HeaderSource`.
impl<V: AsRef<[u8]>> HeaderSource for Vec<(String, V)> {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.as_slice().header(name)
    }

    fn is_repeated(&self, name: &str) -> bool {
        self.as_slice().is_repeated(name)
    }
}

#[cfg(test)]
mod tests {
    use super::HeaderSource;

    #[test]
    fn lookup_ignores_case_and_returns_first() {
        let headers = vec![
            ("Content-Type".to_string(), "a".to_string()),
            ("content-type".to_string(), "b".to_string()),
        ];
        assert_eq!(headers.header("CONTENT-TYPE"), Some(&b"a"[..]));
        assert_eq!(headers.header("missing"), None);
        assert!(headers.is_repeated("Content-type"));
        assert!(!headers[..1].is_repeated("content-type") && !headers.is_repeated("missing"));
    }
}
