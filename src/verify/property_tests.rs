//! Property tests of verification's parsers of untrusted bytes, the bounded counterpart of the
//! fuzz targets under `fuzz/`: each parser agrees with a simple model of it (or with the crate
//! it stands in for) and never panics. 2048 cases per property: the whole file (with
//! `template_model`) takes well under a second in a debug build.

use std::borrow::Cow;

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;
use url::form_urlencoded;

use super::body_pointer::BodyPointer;
use super::form::form_fields;
use super::signature_header::Layout;
use super::timestamp::TimestampFormat;

mod template_model;

/// The decimal value of 1 to 18 ASCII digits (no sign, no space, no dot): how providers write
/// unix times.
fn digits_model(raw: &[u8]) -> Option<i64> {
    let valid = (1..=18).contains(&raw.len()) && raw.iter().all(u8::is_ascii_digit);
    valid.then(|| std::str::from_utf8(raw).ok()?.parse().ok())?
}

/// Bytes that look like a timestamp often enough: digits with the odd sign, space or letter.
fn timestamp_like() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(prop::sample::select(b"0123456789".to_vec()), 0..22),
        vec(prop::sample::select(b"0123456789-+ .eZT:".to_vec()), 0..22),
        vec(any::<u8>(), 0..22),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn unix_timestamps_agree_with_the_digits_model(raw in timestamp_like()) {
        let model = digits_model(&raw);
        prop_assert_eq!(TimestampFormat::Unix.parse(&raw).ok(), model);
        prop_assert_eq!(TimestampFormat::UnixMs.parse(&raw).ok(), model.map(|ms| ms / 1000));
        let either = model.map(|n| if n >= 100_000_000_000 { n / 1000 } else { n });
        prop_assert_eq!(TimestampFormat::UnixSOrMs.parse(&raw).ok(), either);
        let _ = TimestampFormat::Rfc3339.parse(&raw);
    }

    #[test]
    fn every_timestamp_format_reads_what_it_writes(unix in 0i64..253_402_300_799) {
        for format in [TimestampFormat::Unix, TimestampFormat::Rfc3339] {
            let written = format.format(unix).map_err(TestCaseError::fail)?;
            prop_assert_eq!(format.parse(written.as_bytes()), Ok(unix));
        }
        // Milliseconds need a 13-digit value to be told from seconds by size.
        let since_1973 = unix.max(100_000_000);
        for format in [TimestampFormat::UnixMs, TimestampFormat::UnixSOrMs] {
            let written = format.format(since_1973).map_err(TestCaseError::fail)?;
            prop_assert_eq!(format.parse(written.as_bytes()), Ok(since_1973));
        }
    }

    /// Any instant, as `hookgate sign --timestamp` may ask for: written so that it reads back,
    /// or refused (this found milliseconds overflowing `i64`).
    #[test]
    fn any_instant_is_written_readably_or_refused(unix in prop_oneof![any::<i64>(), -1i64..=1 << 40]) {
        for format in [TimestampFormat::Unix, TimestampFormat::UnixMs, TimestampFormat::Rfc3339, TimestampFormat::UnixSOrMs] {
            if let Ok(written) = format.format(unix) {
                prop_assert_eq!(format.parse(written.as_bytes()), Ok(unix), "{:?} {}", format, written);
            }
        }
    }

    #[test]
    fn form_fields_decode_exactly_as_form_urlencoded(
        body in prop_oneof![
            vec(any::<u8>(), 0..64),
            vec(prop::sample::select(b"aZ09=&%+2Bf\xc3\xa9\xff".to_vec()), 0..64),
        ]
    ) {
        let expected: Vec<(Cow<'_, str>, Cow<'_, str>)> = form_urlencoded::parse(&body).collect();
        let decoded: Vec<_> = form_fields(&body).collect();
        prop_assert_eq!(decoded, expected);
    }

    #[test]
    fn pair_headers_read_back_what_a_sender_writes(
        (pair, kv) in separators(),
        key in "[a-z][a-z0-9]{0,3}",
        timestamp in "[0-9]{1,13}",
        signature in "[A-Za-z0-9+/]{1,88}",
        junk in vec(any::<u8>(), 0..40),
    ) {
        let layout = Layout::Pairs {
            pair_separator: pair,
            kv_separator: kv,
            signature_keys: vec![key.as_str().into()],
        };
        let stamp_key = if key == "t" { "ts" } else { "t" };
        let value = layout.format(Some((stamp_key, &timestamp)), &signature);
        let found: Vec<&[u8]> = layout.signatures(value.as_bytes()).collect();
        prop_assert_eq!(found, vec![signature.as_bytes()]);
        prop_assert_eq!(layout.pair(value.as_bytes(), stamp_key.as_bytes()), Ok(timestamp.as_bytes()));
        // Whatever else arrives is read without a panic.
        let _ = layout.signatures(&junk).count();
        let _ = layout.pair(&junk, stamp_key.as_bytes());
    }

    #[test]
    fn value_and_list_headers_read_back_what_a_sender_writes(
        prefix in proptest::option::of("[a-z0-9]{1,6}="),
        separator in prop::sample::select(vec![b',', b' ', b';']),
        timestamp in "[0-9]{1,13}",
        signature in "[A-Za-z0-9+/]{1,88}",
    ) {
        let whole = Layout::Value { prefix: prefix.as_deref().map(Into::into) };
        let value = whole.format(None, &signature);
        let found: Vec<&[u8]> = whole.signatures(value.as_bytes()).collect();
        prop_assert_eq!(found, vec![signature.as_bytes()]);
        let list = Layout::List { separator };
        let value = list.format(Some(("", &timestamp)), &signature);
        prop_assert_eq!(list.list_head(value.as_bytes()), Ok(timestamp.as_bytes()));
        let found: Vec<&[u8]> = list.signatures(value.as_bytes()).collect();
        prop_assert_eq!(found, vec![signature.as_bytes()]);
    }

    #[test]
    fn plain_pointers_agree_with_serde_json(root in json_value(), steps in vec(step(), 1..4)) {
        let text: String = steps.iter().map(|step| format!("/{}", escape(step))).collect();
        let expected = root.pointer(&text).map(|value| vec![value]);
        prop_assert_eq!(BodyPointer::compile(&text).unwrap().values(&root), expected);
    }

    #[test]
    fn star_pointers_reach_and_set_without_panics(
        mut root in json_value(),
        steps in vec(prop_oneof![Just("*".to_string()), step()], 1..4),
    ) {
        let text: String = steps.iter().map(|step| format!("/{step}")).collect();
        let pointer = BodyPointer::compile(&text).unwrap();
        let reached = pointer.values(&root).map_or(0, |values| values.len());
        let set = pointer.set_all(&mut root, &Value::from("x"));
        // Setting only ever adds or replaces members at the last step, never removes a path.
        if set > 0 && reached > 0 {
            prop_assert!(pointer.values(&root).is_some());
        }
    }
}

/// A pair and a key/value separator, different from each other, as provider files set them.
fn separators() -> impl Strategy<Value = (u8, u8)> {
    (
        prop::sample::select(vec![b',', b';', b' ']),
        prop::sample::select(vec![b'=', b':']),
    )
}

/// A pointer step: an object key (some needing RFC 6901 escapes) or a canonical array index.
fn step() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "a/b", "~c", "0", "1", ""]).prop_map(str::to_string)
}

fn escape(step: &str) -> String {
    step.replace('~', "~0").replace('/', "~1")
}

/// Small JSON documents over the keys [`step`] names, nested up to three levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-z]{0,4}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((step(), inner), 0..4)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// The regression of the overflow through the public API: signing for a provider that writes
/// milliseconds (Webflow) at an instant whose milliseconds exceed `i64` is an error, not a panic.
#[test]
fn signing_at_an_instant_beyond_milliseconds_is_an_error() {
    let registry = super::ProviderRegistry::built_in().expect("the shipped providers load");
    let webflow = registry.get("webflow").expect("webflow is shipped");
    let late = i64::MAX / 1000 + 1;
    let error = webflow
        .sign(b"{}", "webflow-secret", "https://h/w", late)
        .unwrap_err();
    assert!(error.to_string().contains(&late.to_string()), "{error}");
}
