//! Serde helpers that interpolate `${VAR}` references while the TOML is being read, so that a
//! missing variable is reported with the line and key it appears at.

use super::interpolate::interpolate;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;
use std::str::FromStr;

/// Where environment variables come from while a config is parsed.
pub type EnvLookup = Rc<dyn Fn(&str) -> Option<String>>;

thread_local! {
    static LOOKUP: RefCell<Option<EnvLookup>> = const { RefCell::new(None) };
}

/// Runs `parse` with `lookup` as the source of environment variables for the helpers below.
pub fn with_env<T>(lookup: EnvLookup, parse: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            LOOKUP.with(|slot| slot.borrow_mut().take());
        }
    }
    LOOKUP.with(|slot| *slot.borrow_mut() = Some(lookup));
    let _reset = Reset;
    parse()
}

fn expand<E: de::Error>(raw: &str) -> Result<String, E> {
    LOOKUP
        .with(|slot| match slot.borrow().as_ref() {
            Some(lookup) => interpolate(raw, |name| lookup(name)),
            None => interpolate(raw, |name| std::env::var(name).ok()),
        })
        .map_err(E::custom)
}

/// A string with `${VAR}` references expanded.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let raw = String::deserialize(d)?;
    expand(&raw)
}

/// An optional string with references expanded; an empty result counts as absent.
pub fn optional_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw = String::deserialize(d)?;
    let value = expand::<D::Error>(&raw)?;
    Ok((!value.is_empty()).then_some(value))
}

/// A list of strings with references expanded; entries that expand to nothing are dropped
/// (so `"${OLD_SECRET:-}"` can stand in a rotation list).
pub fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let raw = Vec::<String>::deserialize(d)?;
    let mut values = Vec::with_capacity(raw.len());
    for item in raw {
        let value = expand::<D::Error>(&item)?;
        if !value.is_empty() {
            values.push(value);
        }
    }
    Ok(values)
}

/// A number written either as a TOML integer or as a string such as `"${POOL_SIZE:-16}"`.
pub fn number<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64> + FromStr,
{
    d.deserialize_any(NumberVisitor(PhantomData))
}

/// Like [`number`], for optional keys.
pub fn optional_number<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64> + FromStr,
{
    number(d).map(Some)
}

/// A boolean written either as a TOML boolean or as a string such as `"${TRUST_PROXY:-false}"`.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    d.deserialize_any(BoolVisitor)
}

struct BoolVisitor;

impl Visitor<'_> for BoolVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("true or false, or a string holding one")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_str<E: de::Error>(self, raw: &str) -> Result<bool, E> {
        let value = expand::<E>(raw)?;
        match value.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(E::custom(format!("{value:?} is not true or false"))),
        }
    }
}

struct NumberVisitor<T>(PhantomData<T>);

impl<T: TryFrom<u64> + FromStr> Visitor<'_> for NumberVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative integer, or a string holding one")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        let v = u64::try_from(v).map_err(|_| E::custom(format!("{v} must not be negative")))?;
        self.visit_u64(v)
    }

    fn visit_str<E: de::Error>(self, raw: &str) -> Result<T, E> {
        let value = expand::<E>(raw)?;
        value
            .trim()
            .parse()
            .map_err(|_| E::custom(format!("{value:?} is not a non-negative integer")))
    }
}
