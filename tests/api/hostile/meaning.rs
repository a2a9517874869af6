//! What a mutated request means compared with the signed original, decided without hookgate's
//! code, from what each provider documents it signs:
//! - `Identical`: HTTP itself makes the two the same (whitespace around a field value, the
//!   case of a field name): it must be accepted;
//! - `Equivalent`: everything signed is unchanged and the genuine signature is still there to
//!   find (hex in either case, base64 with other padding or unused trailing bits, an extra item
//!   in a list of signatures, Twilio form fields that concatenate to the same signed string):
//!   accepting and refusing are both correct;
//! - `Forged`: something signed changed, or the genuine signature is gone, or a field that
//!   verification reads is sent twice: it must be refused. A MAC or signature that matched
//!   anyway would be a forgery found by chance, at odds of 2^-160 or less.

use super::mutation::{Edit, Mutation};
use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

/// What a correct gateway may answer to a mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// The same request as far as HTTP is concerned: accepted.
    Identical,
    /// The same signed content with the genuine signature present: accepted or refused.
    Equivalent,
    /// Not what the key holder signed: refused with a 4xx.
    Forged,
}

/// How a signed header's value is read, as the provider documents it.
#[derive(Debug, Clone, Copy)]
pub enum Syntax {
    /// One signature in hex after an exact prefix (`sha256=`, `v0=`, or none).
    Hex { prefix: &'static str },
    /// One signature in base64.
    Base64,
    /// Stripe: `t=<time>` and any number of `v1=<hex>` items split at `,`; any v1 may match.
    StripePairs,
    /// Standard Webhooks: any number of `v1,<base64>` items split at spaces; any may match.
    VersionedList,
    /// Text signed as it is: a timestamp or an id.
    Plain,
}

/// How the body is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodySyntax {
    /// Byte for byte.
    Bytes,
    /// As its form fields sorted by name, each name followed by its value (Twilio).
    SortedForm,
}

/// The verdict on `mutation` of a request whose signed fields have `values`, `names` and
/// `syntaxes`, and whose body is `body`.
pub fn verdict(
    mutation: &Mutation,
    values: &[&[u8]],
    names: &[&[u8]],
    syntaxes: &[Syntax],
    body: (&[u8], BodySyntax),
) -> Verdict {
    match *mutation {
        // A singleton field sent twice is ambiguous, whether or not the copies agree.
        Mutation::Repeated { .. } => Verdict::Forged,
        // Field names are case-insensitive (RFC 9110 §5.1).
        Mutation::Name { field, edit } => {
            match edit.apply(names[field]).eq_ignore_ascii_case(names[field]) {
                true => Verdict::Identical,
                false => Verdict::Forged,
            }
        }
        Mutation::Value { field, edit } => value_verdict(values[field], edit, syntaxes[field]),
        Mutation::Body(edit) => match body {
            (body, BodySyntax::SortedForm)
                if twilio_signed(&edit.apply(body)) == twilio_signed(body) =>
            {
                Verdict::Equivalent
            }
            _ => Verdict::Forged,
        },
    }
}

fn value_verdict(original: &[u8], edit: Edit, syntax: Syntax) -> Verdict {
    let mutated = edit.apply(original);
    // Leading and trailing spaces and tabs are not part of a field value (RFC 9110 §5.5).
    if trim_ows(&mutated) == original {
        return Verdict::Identical;
    }
    if has_control_bytes(&mutated) {
        return Verdict::Forged;
    }
    let equivalent = match syntax {
        Syntax::Plain => false,
        Syntax::Hex { prefix } => hex_after(&mutated, prefix) == hex_after(original, prefix),
        Syntax::Base64 => base64(trim_ows(&mutated)) == base64(original),
        Syntax::StripePairs => {
            let timestamps = |value| pairs(value, b',', b'=', "t").collect::<Vec<_>>();
            let genuine = pairs(original, b',', b'=', "v1")
                .next()
                .and_then(hex_decode);
            // Every `t` the mutated header names is the signed one; the genuine v1 is there.
            let mut sent = timestamps(&mutated);
            sent.dedup();
            sent == timestamps(original)
                && pairs(&mutated, b',', b'=', "v1").any(|v| hex_decode(v) == genuine)
        }
        Syntax::VersionedList => {
            let genuine = pairs(original, b' ', b',', "v1").next().and_then(base64);
            pairs(&mutated, b' ', b',', "v1").any(|v| base64(v) == genuine)
        }
    };
    match equivalent {
        true => Verdict::Equivalent,
        false => Verdict::Forged,
    }
}

/// The values of the items keyed `key` in a list split at `separator` (spaces and tabs around
/// items and empty items ignored, RFC 9110 §5.6.1), each item `key` `kv` `value`.
fn pairs<'v>(
    value: &'v [u8],
    separator: u8,
    kv: u8,
    key: &'static str,
) -> impl Iterator<Item = &'v [u8]> {
    value
        .split(move |byte| *byte == separator)
        .map(trim_ows)
        .filter_map(move |item| {
            let at = item.iter().position(|byte| *byte == kv)?;
            (&item[..at] == key.as_bytes()).then(|| &item[at + 1..])
        })
}

/// The hex after an exact `prefix`, decoded in either case.
fn hex_after(value: &[u8], prefix: &str) -> Option<Vec<u8>> {
    hex_decode(trim_ows(value).strip_prefix(prefix.as_bytes())?)
}

fn hex_decode(text: &[u8]) -> Option<Vec<u8>> {
    hex::decode(text).ok()
}

/// Base64 as a lenient decoder reads it: padding optional, unused trailing bits ignored.
fn base64(text: &[u8]) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(text).ok()
}

fn trim_ows(bytes: &[u8]) -> &[u8] {
    let is_ows = |byte: &u8| *byte == b' ' || *byte == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |end| end + 1);
    &bytes[start..end]
}

/// Bytes HTTP forbids in a field (all controls but tab, and DEL): the message is malformed
/// whatever they would mean.
pub fn has_control_bytes(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .any(|b| (*b < 0x20 && *b != b'\t') || *b == 0x7f)
}

/// The part of Twilio's signed string a form body contributes: its fields decoded, sorted by
/// name, each name followed by its value, all concatenated.
fn twilio_signed(body: &[u8]) -> String {
    let mut fields: Vec<(String, String)> =
        url::form_urlencoded::parse(body).into_owned().collect();
    fields.sort();
    fields
        .into_iter()
        .map(|(name, value)| name + &value)
        .collect()
}
