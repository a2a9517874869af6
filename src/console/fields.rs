//! Fields the console's filter forms share: a choice among configured ids and the pair of
//! time fields with their hint, each keeping what was typed.

use crate::sources::Sources;
use maud::{Markup, html};

/// A `<select>` named `name` labelled `label`, offering "any" (`any`) and each of `ids`, with
/// `chosen` selected.
pub fn choice<'a>(
    id: &str,
    name: &str,
    label: &str,
    any: &str,
    ids: impl IntoIterator<Item = &'a str>,
    chosen: Option<&str>,
) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select #(id) name=(name) {
                option value="" { (any) }
                @for value in ids {
                    option value=(value) selected[chosen == Some(value)] { (value) }
                }
            }
        }
    }
}

/// The configured sources as a [`choice`] named `source`.
pub fn source_choice(id: &str, sources: &Sources, chosen: Option<&str>) -> Markup {
    let sorted = sources.sorted();
    choice(
        id,
        "source",
        "Source",
        "Any source",
        sorted.iter().map(|s| &*s.id),
        chosen,
    )
}

/// The `since` and `until` fields (ids `<prefix>-since`, `<prefix>-until`) with the hint
/// saying what they take; `label` goes before "since" and "until".
pub fn time_range(
    prefix: &str,
    label: &str,
    since: &Option<String>,
    until: &Option<String>,
) -> Markup {
    let hint = format!("{prefix}-time-hint");
    let field = |name: &str, value: &Option<String>, placeholder: &str| {
        let id = format!("{prefix}-{name}");
        let text = if label.is_empty() {
            let mut title = name.to_owned();
            title[..1].make_ascii_uppercase();
            title
        } else {
            format!("{label} {name}")
        };
        html! {
            div.field {
                label for=(id) { (text) }
                input #(id) type="text" name=(name) value=(value.clone().unwrap_or_default())
                    placeholder=(placeholder) aria-describedby=(hint) autocomplete="off";
            }
        }
    };
    html! {
        (field("since", since, "1h or 2025-06-01"))
        (field("until", until, "2025-06-02"))
        p #(hint) .hint { "Times without a zone are UTC; 30m, 1h, 7d count back from now." }
    }
}
