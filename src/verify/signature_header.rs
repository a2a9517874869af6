//! Parsing a signature header: the whole value (optionally after a prefix such as `sha256=`),
//! separated key/value pairs such as Stripe's `t=…,v1=…`, Paddle's `ts=…;h1=…` or Standard
//! Webhooks' space-separated `v1,<sig>` list, or Recurly's `<timestamp>,<sig>,<sig>` list.

use super::error::Invalid;
use super::schema::{HeaderFormat, SignatureSpec};
use super::{HeaderSource, Rejection};

/// The trimmed value of the signature header; missing when absent or blank.
pub(super) fn header_value<'r>(
    headers: &'r dyn HeaderSource,
    name: &str,
) -> Result<&'r [u8], Rejection> {
    headers
        .header(name)
        .map(<[u8]>::trim_ascii)
        .filter(|value| !value.is_empty())
        .ok_or(Rejection::MissingSignature)
}

/// How signatures are laid out in the header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Layout {
    /// The whole value is one signature, after `prefix` when set.
    Value { prefix: Option<Box<str>> },
    /// Pairs separated by `pair_separator`; each is `key` `kv_separator` `value`, and the values
    /// of `signature_keys` are signatures.
    Pairs {
        pair_separator: u8,
        kv_separator: u8,
        signature_keys: Vec<Box<str>>,
    },
    /// The signed timestamp, then one or more signatures, separated by `separator`.
    List { separator: u8 },
}

impl Layout {
    /// Builds the layout from the `[signature]` table.
    pub(super) fn compile(spec: &SignatureSpec) -> Result<Layout, Invalid> {
        match spec.format {
            HeaderFormat::Value => {
                let context = "with format = \"value\"";
                Invalid::reject_if(
                    spec.pair_separator.is_some(),
                    "signature.pair_separator",
                    context,
                )?;
                Invalid::reject_if(
                    spec.kv_separator.is_some(),
                    "signature.kv_separator",
                    context,
                )?;
                Invalid::reject_if(spec.keys.is_some(), "signature.keys", context)?;
                Ok(Layout::Value {
                    prefix: spec.prefix.as_deref().map(Into::into),
                })
            }
            HeaderFormat::List => {
                let context = "with format = \"list\"";
                Invalid::reject_if(spec.prefix.is_some(), "signature.prefix", context)?;
                Invalid::reject_if(
                    spec.kv_separator.is_some(),
                    "signature.kv_separator",
                    context,
                )?;
                Invalid::reject_if(spec.keys.is_some(), "signature.keys", context)?;
                let separator = separator("signature.pair_separator", &spec.pair_separator)?;
                Ok(Layout::List { separator })
            }
            HeaderFormat::Pairs => {
                Invalid::reject_if(
                    spec.prefix.is_some(),
                    "signature.prefix",
                    "with format = \"pairs\"",
                )?;
                let pair_separator = separator("signature.pair_separator", &spec.pair_separator)?;
                let kv_separator = separator("signature.kv_separator", &spec.kv_separator)?;
                if pair_separator == kv_separator {
                    return Err(Invalid::new(
                        "signature.kv_separator",
                        "must differ from signature.pair_separator",
                    ));
                }
                let keys = spec
                    .keys
                    .as_deref()
                    .filter(|keys| !keys.is_empty())
                    .ok_or_else(|| Invalid::new("signature.keys", "required with format = \"pairs\": the keys whose values are signatures"))?;
                if let Some(bad) = keys.iter().find(|k| {
                    k.is_empty() || k.contains([pair_separator as char, kv_separator as char])
                }) {
                    return Err(Invalid::new(
                        "signature.keys",
                        format!("{bad:?} is empty or contains a separator"),
                    ));
                }
                Ok(Layout::Pairs {
                    pair_separator,
                    kv_separator,
                    signature_keys: keys.iter().map(|k| k.as_str().into()).collect(),
                })
            }
        }
    }

    /// Whether `key` can be looked up with [`Layout::pair`].
    pub(super) fn has_pairs(&self) -> bool {
        matches!(self, Layout::Pairs { .. })
    }

    /// Whether the value starts with the signed timestamp ([`Layout::list_head`]).
    pub(super) fn is_list(&self) -> bool {
        matches!(self, Layout::List { .. })
    }

    /// The first item of a list: the signed timestamp; missing when there is no item.
    pub(super) fn list_head<'v>(&self, value: &'v [u8]) -> Result<&'v [u8], Rejection> {
        self.items(value).next().ok_or(Rejection::MissingTimestamp)
    }

    /// The signature candidates in `value`, not yet decoded.
    pub(super) fn signatures<'v>(&'v self, value: &'v [u8]) -> impl Iterator<Item = &'v [u8]> {
        let skip = usize::from(self.is_list());
        self.items(value)
            .skip(skip)
            .filter_map(move |item| match self {
                Layout::List { .. } => Some(item),
                Layout::Value { prefix: None } => Some(item),
                Layout::Value {
                    prefix: Some(prefix),
                } => item.strip_prefix(prefix.as_bytes()),
                Layout::Pairs {
                    kv_separator,
                    signature_keys,
                    ..
                } => {
                    let (key, value) = split_pair(item, *kv_separator)?;
                    signature_keys
                        .iter()
                        .any(|wanted| wanted.as_bytes() == key)
                        .then_some(value)
                }
            })
    }

    /// The value of pair `key`: missing when absent, malformed when empty or repeated.
    pub(super) fn pair<'v>(&self, value: &'v [u8], key: &[u8]) -> Result<&'v [u8], Rejection> {
        let Layout::Pairs { kv_separator, .. } = self else {
            return Err(Rejection::MissingTimestamp);
        };
        let mut found = None;
        for (item_key, item_value) in self
            .items(value)
            .filter_map(|i| split_pair(i, *kv_separator))
        {
            if item_key == key {
                if found.is_some() || item_value.is_empty() {
                    return Err(Rejection::MalformedTimestamp);
                }
                found = Some(item_value);
            }
        }
        found.ok_or(Rejection::MissingTimestamp)
    }

    /// Writes a header value holding `signature` (under the first signature key) and, for pairs
    /// and lists, the `timestamp` (pair) first when given: what a sender would put in the header.
    pub(super) fn format(&self, timestamp: Option<(&str, &str)>, signature: &str) -> String {
        match self {
            Layout::Value { prefix } => format!("{}{signature}", prefix.as_deref().unwrap_or("")),
            Layout::List { separator } => {
                let (_, stamp) = timestamp.unwrap_or_default();
                format!("{stamp}{}{signature}", char::from(*separator))
            }
            Layout::Pairs {
                pair_separator,
                kv_separator,
                signature_keys,
            } => {
                let (pair, kv) = (char::from(*pair_separator), char::from(*kv_separator));
                let signature = format!("{}{kv}{signature}", signature_keys[0]);
                match timestamp {
                    Some((key, value)) => format!("{key}{kv}{value}{pair}{signature}"),
                    None => signature,
                }
            }
        }
    }

    /// The trimmed, non-empty items of `value` (the whole value for `Value`).
    fn items<'v>(&self, value: &'v [u8]) -> impl Iterator<Item = &'v [u8]> {
        let separator = match self {
            Layout::Value { .. } => None,
            Layout::Pairs { pair_separator, .. } => Some(*pair_separator),
            Layout::List { separator } => Some(*separator),
        };
        value
            .split(move |byte| Some(*byte) == separator)
            .map(<[u8]>::trim_ascii)
            .filter(|item| !item.is_empty())
    }
}

/// A required single-ASCII-character separator.
fn separator(key: &'static str, value: &Option<String>) -> Result<u8, Invalid> {
    match value.as_deref().map(str::as_bytes) {
        Some(&[byte]) if byte.is_ascii() => Ok(byte),
        Some(_) => Err(Invalid::new(key, "must be exactly one ASCII character")),
        None => Err(Invalid::new(key, "required with format = \"pairs\"")),
    }
}

fn split_pair(item: &[u8], separator: u8) -> Option<(&[u8], &[u8])> {
    let at = item.iter().position(|byte| *byte == separator)?;
    Some((&item[..at], &item[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(pair: u8, kv: u8, keys: &[&str]) -> Layout {
        Layout::Pairs {
            pair_separator: pair,
            kv_separator: kv,
            signature_keys: keys.iter().map(|&k| k.into()).collect(),
        }
    }

    fn collect<'v>(layout: &'v Layout, value: &'v [u8]) -> Vec<&'v [u8]> {
        layout.signatures(value).collect()
    }

    #[test]
    fn whole_value_with_and_without_prefix() {
        let plain = Layout::Value { prefix: None };
        assert_eq!(collect(&plain, b" abc "), [b"abc"]);
        let prefixed = Layout::Value {
            prefix: Some("sha256=".into()),
        };
        assert_eq!(collect(&prefixed, b"sha256=abc"), [b"abc"]);
        assert!(collect(&prefixed, b"sha1=abc").is_empty());
    }

    #[test]
    fn stripe_pairs() {
        let layout = pairs(b',', b'=', &["v1"]);
        let value = b"t=1492774577,v1=aa,v0=bb, v1=cc";
        assert_eq!(collect(&layout, value), [&b"aa"[..], b"cc"]);
        assert_eq!(layout.pair(value, b"t"), Ok(&b"1492774577"[..]));
        assert_eq!(
            layout.pair(b"v1=aa", b"t"),
            Err(Rejection::MissingTimestamp)
        );
        assert_eq!(
            layout.pair(b"t=1,t=2,v1=aa", b"t"),
            Err(Rejection::MalformedTimestamp)
        );
        assert_eq!(
            layout.pair(b"t=,v1=aa", b"t"),
            Err(Rejection::MalformedTimestamp)
        );
    }

    #[test]
    fn paddle_and_standard_webhooks_pairs() {
        let paddle = pairs(b';', b'=', &["h1"]);
        assert_eq!(collect(&paddle, b"ts=1671552777;h1=abc"), [b"abc"]);
        let standard = pairs(b' ', b',', &["v1"]);
        assert_eq!(
            collect(&standard, b"v1,a+b/c= v1a,zzz  v1,d=="),
            [&b"a+b/c="[..], b"d=="]
        );
    }

    #[test]
    fn formats_what_it_parses() {
        let stripe = pairs(b',', b'=', &["v1"]);
        let value = stripe.format(Some(("t", "12")), "ab");
        assert_eq!(value, "t=12,v1=ab");
        assert_eq!(collect(&stripe, value.as_bytes()), [b"ab"]);
        let standard = pairs(b' ', b',', &["v1"]);
        assert_eq!(standard.format(None, "c2ln"), "v1,c2ln");
        let github = Layout::Value {
            prefix: Some("sha256=".into()),
        };
        assert_eq!(github.format(None, "ab"), "sha256=ab");
    }

    #[test]
    fn recurly_lists_start_with_the_timestamp() {
        let list = Layout::List { separator: b',' };
        let value = b"1700000000000,aa, bb";
        assert_eq!(list.list_head(value), Ok(&b"1700000000000"[..]));
        assert_eq!(collect(&list, value), [&b"aa"[..], b"bb"]);
        assert_eq!(collect(&list, b"1700000000000"), Vec::<&[u8]>::new());
        assert_eq!(list.list_head(b" , ,"), Err(Rejection::MissingTimestamp));
        assert_eq!(list.format(Some(("", "12")), "ab"), "12,ab");
    }

    #[test]
    fn hostile_values_do_not_explode() {
        let layout = pairs(b',', b'=', &["v1"]);
        let commas = vec![b','; 10_000];
        assert!(collect(&layout, &commas).is_empty());
        assert!(collect(&layout, b"\xff\xfe=\x00,v1").is_empty());
        assert_eq!(collect(&layout, b"v1="), [&b""[..]]);
    }
}
