//! Framework-independent header lookup.

/// Case-insensitive header lookup, so verification stays independent of the HTTP framework.
pub trait HeaderSource {
    /// The value of header `name` (ASCII case-insensitive), if present.
    fn header(&self, name: &str) -> Option<&[u8]>;
}

impl HeaderSource for [(String, String)] {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_bytes())
    }
}

/// A `Vec` of pairs, so `&Vec<(String, String)>` coerces to `&dyn HeaderSource`.
impl HeaderSource for Vec<(String, String)> {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.as_slice().header(name)
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
    }
}
