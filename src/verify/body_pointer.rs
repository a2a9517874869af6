//! JSON pointers (RFC 6901) in which a `*` step stands for every item of an array, such as
//! Microsoft Graph's `/value/*/clientState`: a value that each notification of a batch carries.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// An object member, or an array index when it is a number.
    Key(String),
    /// Every item of an array.
    Each,
}

/// A compiled pointer with `*` steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BodyPointer {
    steps: Vec<Step>,
}

impl BodyPointer {
    /// Compiles `text`; `~1` and `~0` are unescaped as RFC 6901 says.
    pub(super) fn compile(text: &str) -> Result<BodyPointer, String> {
        let rest = text
            .strip_prefix('/')
            .ok_or("must start with `/` (RFC 6901)")?;
        let steps = rest
            .split('/')
            .map(|step| match step {
                "*" => Step::Each,
                _ => Step::Key(step.replace("~1", "/").replace("~0", "~")),
            })
            .collect();
        Ok(BodyPointer { steps })
    }

    /// Every value the pointer reaches in `root`; `None` when a step is missing, a `*` meets
    /// something other than an array, or nothing is reached at all (an empty batch).
    pub(super) fn values<'v>(&self, root: &'v Value) -> Option<Vec<&'v Value>> {
        let mut reached = vec![root];
        for step in &self.steps {
            let mut next = Vec::with_capacity(reached.len());
            for value in reached {
                match (step, value) {
                    (Step::Each, Value::Array(items)) => next.extend(items),
                    (Step::Key(key), Value::Object(members)) => next.push(members.get(key)?),
                    (Step::Key(key), Value::Array(items)) => {
                        next.push(items.get(key.parse::<usize>().ok()?)?)
                    }
                    _ => return None,
                }
            }
            reached = next;
        }
        (!reached.is_empty()).then_some(reached)
    }

    /// Sets every member the pointer names to `value` (its last step must be a member name);
    /// answers how many were set.
    pub(super) fn set_all(&self, root: &mut Value, value: &Value) -> usize {
        fn set(current: &mut Value, steps: &[Step], value: &Value) -> usize {
            match (steps, current) {
                ([Step::Key(key)], Value::Object(members)) => {
                    members.insert(key.clone(), value.clone());
                    1
                }
                ([Step::Each, rest @ ..], Value::Array(items)) if !rest.is_empty() => {
                    items.iter_mut().map(|item| set(item, rest, value)).sum()
                }
                ([Step::Key(key), rest @ ..], Value::Object(members)) if !rest.is_empty() => {
                    members
                        .get_mut(key)
                        .map_or(0, |next| set(next, rest, value))
                }
                _ => 0,
            }
        }
        set(root, &self.steps, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointer(text: &str) -> BodyPointer {
        BodyPointer::compile(text).unwrap()
    }

    #[test]
    fn reaches_every_item() {
        let body = json!({"value": [{"clientState": "a"}, {"clientState": "b"}], "a/b": {"~": 1}});
        let states = pointer("/value/*/clientState").values(&body).unwrap();
        assert_eq!(states, [&json!("a"), &json!("b")]);
        assert_eq!(
            pointer("/value/1/clientState").values(&body).unwrap(),
            [&json!("b")]
        );
        assert_eq!(pointer("/a~1b/~0").values(&body).unwrap(), [&json!(1)]);
    }

    #[test]
    fn a_missing_step_or_an_empty_batch_reaches_nothing() {
        for body in [
            json!({"value": []}),
            json!({"value": [{"clientState": "a"}, {}]}),
            json!({"value": {"clientState": "a"}}),
            json!({"value": "x"}),
            json!([]),
        ] {
            assert_eq!(
                pointer("/value/*/clientState").values(&body),
                None,
                "{body}"
            );
        }
        assert!(BodyPointer::compile("value/*").is_err());
    }

    #[test]
    fn sets_every_item() {
        let mut body = json!({"value": [{"id": 1}, {"id": 2, "clientState": "old"}]});
        let set = pointer("/value/*/clientState").set_all(&mut body, &json!("s"));
        assert_eq!(set, 2);
        assert_eq!(
            body,
            json!({"value": [{"id": 1, "clientState": "s"}, {"id": 2, "clientState": "s"}]})
        );
        assert_eq!(pointer("/value/*").set_all(&mut body, &json!("s")), 0);
        assert_eq!(pointer("/missing/*/x").set_all(&mut body, &json!("s")), 0);
    }
}
