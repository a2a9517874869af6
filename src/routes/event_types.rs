//! Event type patterns: `invoice.*` passes `invoice.paid`.

/// Event type patterns where `*` matches any run of characters.
#[derive(Debug, Clone, PartialEq)]
pub struct EventTypeFilter {
    patterns: Vec<String>,
}

impl EventTypeFilter {
    pub fn new(patterns: Vec<String>) -> EventTypeFilter {
        EventTypeFilter { patterns }
    }

    /// Whether an event of this type passes; an event without a type matches no pattern.
    pub fn matches(&self, event_type: Option<&str>) -> bool {
        event_type.is_some_and(|t| self.patterns.iter().any(|p| glob_matches(p, t)))
    }
}

/// `*`-only glob matching, linear in the input (no backtracking blow-up).
fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_prefixes_suffixes_and_exact_names() {
        assert!(glob_matches("invoice.*", "invoice.paid"));
        assert!(!glob_matches("invoice.*", "charge.paid"));
        assert!(glob_matches("*.succeeded", "charge.succeeded"));
        assert!(glob_matches("charge.succeeded", "charge.succeeded"));
        assert!(!glob_matches("charge.succeeded", "charge.succeeded.x"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a*b*c", "a-b-b-c"));
        assert!(!glob_matches("a*b*c", "a-c-b"));
        assert!(!glob_matches("ab*ba", "aba"));
    }

    #[test]
    fn a_filter_passes_matching_types_and_drops_untyped_events() {
        let filter = EventTypeFilter::new(vec!["invoice.*".into(), "charge.succeeded".into()]);
        assert!(filter.matches(Some("invoice.created")));
        assert!(filter.matches(Some("charge.succeeded")));
        assert!(!filter.matches(Some("charge.failed")));
        assert!(!filter.matches(None));
    }
}
