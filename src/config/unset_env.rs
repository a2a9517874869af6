//! Finding every `${NAME}` (without a default) whose variable is not set, with the config key that
//! uses it, before the config is read: so that all of them are reported at once, as what they are.

use super::interpolate::unset_variables;
use std::fmt;

/// An environment variable the config needs but that is not set, and the key that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsetVariable {
    pub name: String,
    /// The config key, e.g. `database.url` or `sources[0].secrets[1]`.
    pub key: String,
}

impl fmt::Display for UnsetVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "environment variable {} is not set (used by {})",
            self.name, self.key
        )
    }
}

/// Every unset variable the document's string values reference, sorted by key (the same order
/// whichever way the TOML crate keeps its tables).
pub fn find_unset(
    document: &toml::Table,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Vec<UnsetVariable> {
    let mut unset = Vec::new();
    for (key, value) in document {
        visit(value, key.clone(), lookup, &mut unset);
    }
    unset.sort_by(|a, b| a.key.cmp(&b.key));
    unset
}

fn visit(
    value: &toml::Value,
    key: String,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut Vec<UnsetVariable>,
) {
    match value {
        toml::Value::String(text) => unset.extend(unset_variables(text, lookup).into_iter().map(
            |name| UnsetVariable {
                name,
                key: key.clone(),
            },
        )),
        toml::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                visit(item, format!("{key}[{index}]"), lookup, unset);
            }
        }
        toml::Value::Table(table) => {
            for (name, item) in table {
                visit(item, format!("{key}.{name}"), lookup, unset);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unset_in(text: &str) -> Vec<String> {
        let document: toml::Table = toml::from_str(text).unwrap();
        let lookup = |name: &str| (name == "SET").then(|| "value".to_string());
        find_unset(&document, &lookup)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn every_unset_variable_is_named_with_its_key() {
        let text = r#"
[database]
url = "${DATABASE_URL}"
[[sources]]
id = "${SET}"
secrets = ["${SET}", "${A:-}", "${B}${C}"]
"#;
        assert_eq!(
            unset_in(text),
            [
                "environment variable DATABASE_URL is not set (used by database.url)",
                "environment variable B is not set (used by sources[0].secrets[2])",
                "environment variable C is not set (used by sources[0].secrets[2])",
            ]
        );
    }

    #[test]
    fn defaults_set_variables_and_non_strings_need_nothing() {
        assert!(unset_in("a = \"${X:-d}\"\nb = \"${SET}\"\nc = 3\nd = \"$$X\"").is_empty());
    }
}
