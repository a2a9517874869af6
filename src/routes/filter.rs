//! A filter: event type patterns and `match` conditions, all of which must hold.

use super::condition::Condition;
use super::{EventTypeFilter, RouteInput};
use crate::config::FilterConfig;
use std::sync::Arc;

/// A compiled filter. Each condition carries the text that names it in a `filtered` entry,
/// made once here rather than per event.
#[derive(Debug, Clone)]
pub struct ContentFilter {
    event_types: Option<(EventTypeFilter, Arc<str>)>,
    conditions: Vec<(Condition, Arc<str>)>,
}

impl ContentFilter {
    /// Compiles a filter; the error names the key at fault (relative to the filter, e.g.
    /// `match[1]`) and what is wrong.
    pub fn compile(config: &FilterConfig) -> Result<ContentFilter, (String, String)> {
        if config.event_types.is_empty() && config.conditions.is_empty() {
            return Err((
                String::new(),
                "is empty: give `event_types` or `match` conditions, or remove the filter".into(),
            ));
        }
        let event_types = (!config.event_types.is_empty()).then(|| {
            let rule = format!("event_types {:?}", config.event_types);
            (
                EventTypeFilter::new(config.event_types.clone()),
                rule.into(),
            )
        });
        let conditions = config
            .conditions
            .iter()
            .enumerate()
            .map(|(index, condition)| {
                let key = format!("match[{index}]");
                let compiled = Condition::compile(condition).map_err(|why| (key.clone(), why))?;
                let rule = format!("{key}: {compiled}");
                Ok((compiled, rule.into()))
            })
            .collect::<Result<_, (String, String)>>()?;
        Ok(ContentFilter {
            event_types,
            conditions,
        })
    }

    /// The first rule the event fails, if any. Event types are checked first: they need
    /// no body.
    pub fn failed_rule(&self, input: &RouteInput) -> Option<Arc<str>> {
        if let Some((types, rule)) = &self.event_types
            && !types.matches(input.event_type)
        {
            return Some(rule.clone());
        }
        self.conditions
            .iter()
            .find(|(condition, _)| !condition.holds(input))
            .map(|(_, rule)| rule.clone())
    }

    /// Every rule, as it reads in a `filtered` entry: what the console shows of a filter.
    pub fn rules(&self) -> impl Iterator<Item = &str> {
        let types = self.event_types.iter().map(|(_, rule)| &**rule);
        types.chain(self.conditions.iter().map(|(_, rule)| &**rule))
    }
}
