//! The signed-string template against a model: a template generated as a list of pieces is
//! written out as provider-file text, compiled, and rendered; the model renders the same pieces
//! directly. Plus: any text compiles or is refused without a panic, and text without `{`, `[`
//! or `]` renders as itself.

use proptest::collection::vec;
use proptest::prelude::*;

use super::super::template::{Template, Values};

/// One placeholder or literal, as the model knows it.
#[derive(Debug, Clone)]
enum Part {
    Literal(String),
    Body,
    Timestamp,
    Id,
    Url,
    Header(&'static str),
    Query(&'static str),
    Lower(Box<Part>),
}

#[derive(Debug, Clone)]
enum Piece {
    Always(Part),
    /// `[…]`: the generator always puts a request value in it, as the compiler requires.
    Optional(Vec<Part>),
}

/// The request values a template is rendered against.
#[derive(Debug, Clone)]
struct Request {
    body: Vec<u8>,
    /// Values of the query parameters `q` and `r` (absent when `None`).
    query: [Option<String>; 2],
    timestamp: Option<Vec<u8>>,
    id: Option<Vec<u8>>,
    /// Values of the headers `X-A` and `X-B` (absent when `None`).
    headers: [Option<String>; 2],
}

const HEADERS: [&str; 3] = ["X-A", "X-B", "X-Absent"];
const QUERY: [&str; 3] = ["q", "r", "absent"];

impl Request {
    fn url(&self) -> String {
        let pairs: Vec<String> = QUERY
            .iter()
            .zip(&self.query)
            .filter_map(|(name, value)| Some(format!("{name}={}", value.as_ref()?)))
            .collect();
        format!("https://hooks.example.com/w?{}", pairs.join("&"))
    }

    fn header_list(&self) -> Vec<(String, String)> {
        HEADERS
            .iter()
            .zip(&self.headers)
            .filter_map(|(name, value)| Some((name.to_string(), value.clone()?)))
            .collect()
    }

    /// The model's value of one part: `None` when the request lacks it.
    fn value(&self, part: &Part) -> Option<Vec<u8>> {
        let index = |names: &[&str], name: &str| names.iter().position(|n| *n == name);
        match part {
            Part::Literal(text) => Some(text.clone().into_bytes()),
            Part::Body => Some(self.body.clone()),
            Part::Timestamp => self.timestamp.clone(),
            Part::Id => self.id.clone(),
            Part::Url => Some(self.url().into_bytes()),
            Part::Header(name) => self
                .headers
                .get(index(&HEADERS, name)?)?
                .clone()
                .map(String::into_bytes),
            Part::Query(name) => self
                .query
                .get(index(&QUERY, name)?)?
                .clone()
                .map(String::into_bytes),
            Part::Lower(inner) => self.value(inner).map(|bytes| bytes.to_ascii_lowercase()),
        }
    }

    /// The model's rendering: `None` when a value outside any group is absent.
    fn render(&self, pieces: &[Piece]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Always(part) => out.extend(self.value(part)?),
                Piece::Optional(parts) => {
                    let values: Option<Vec<Vec<u8>>> = parts
                        .iter()
                        .map(|part| {
                            self.value(part)
                                .filter(|v| !v.is_empty() || !reads_request(part))
                        })
                        .collect();
                    values
                        .into_iter()
                        .flatten()
                        .for_each(|value| out.extend(value));
                }
            }
        }
        Some(out)
    }
}

fn reads_request(part: &Part) -> bool {
    matches!(
        part,
        Part::Id | Part::Header(_) | Part::Query(_) | Part::Lower(_)
    )
}

/// The template text a provider file would hold for `pieces`.
fn text(pieces: &[Piece]) -> String {
    fn written(part: &Part) -> String {
        match part {
            Part::Literal(text) => text.clone(),
            Part::Body => "{body}".to_string(),
            Part::Timestamp => "{timestamp}".to_string(),
            Part::Id => "{id}".to_string(),
            Part::Url => "{url}".to_string(),
            Part::Header(name) => format!("{{header:{name}}}"),
            Part::Query(name) => format!("{{query:{name}}}"),
            Part::Lower(inner) => written(inner).replace('}', "|lower}"),
        }
    }
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Always(one) => written(one),
            Piece::Optional(parts) => {
                format!("[{}]", parts.iter().map(written).collect::<String>())
            }
        })
        .collect()
}

fn request_part() -> impl Strategy<Value = Part> {
    let plain = prop_oneof![
        Just(Part::Id),
        prop::sample::select(HEADERS.to_vec()).prop_map(Part::Header),
        prop::sample::select(QUERY.to_vec()).prop_map(Part::Query),
    ];
    (plain, any::<bool>()).prop_map(|(part, lower)| {
        if lower {
            Part::Lower(Box::new(part))
        } else {
            part
        }
    })
}

fn part() -> impl Strategy<Value = Part> {
    prop_oneof![
        "[a-zA-Z0-9:.|,=/ -]{1,6}".prop_map(Part::Literal),
        Just(Part::Body),
        Just(Part::Timestamp),
        Just(Part::Url),
        request_part(),
    ]
}

fn pieces() -> impl Strategy<Value = Vec<Piece>> {
    let group =
        (vec(part(), 0..2), request_part(), vec(part(), 0..2)).prop_map(|(before, read, after)| {
            Piece::Optional(before.into_iter().chain([read]).chain(after).collect())
        });
    vec(
        prop_oneof![3 => part().prop_map(Piece::Always), 1 => group],
        1..6,
    )
}

fn request() -> impl Strategy<Value = Request> {
    let text = || proptest::option::of("[a-zA-Z0-9]{0,5}");
    let bytes = || proptest::option::of(vec(any::<u8>(), 0..6));
    (
        vec(any::<u8>(), 0..12),
        [text(), text()],
        bytes(),
        bytes(),
        [text(), text()],
    )
        .prop_map(|(body, query, timestamp, id, headers)| Request {
            body,
            query,
            timestamp,
            id,
            headers,
        })
}

fn render(template: &Template, request: &Request) -> Option<Vec<u8>> {
    let headers = request.header_list();
    let url = request.url();
    let values = Values {
        body: &request.body,
        url: &url,
        timestamp: request.timestamp.as_deref(),
        id: request.id.as_deref(),
        headers: &headers,
        json: None,
    };
    let mut out = Vec::new();
    template
        .render(&values, |bytes| out.extend_from_slice(bytes))
        .ok()
        .map(|()| out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn templates_render_as_the_model_does(pieces in pieces(), request in request()) {
        let text = text(&pieces);
        let template = Template::compile(&text).map_err(TestCaseError::fail)?;
        prop_assert_eq!(render(&template, &request), request.render(&pieces), "{}", text);
    }

    #[test]
    fn any_text_compiles_or_is_refused(
        text in prop_oneof![
            ".{0,40}",
            "[{}\\[\\]|a-z:/ ]{0,40}",
        ],
        request in request(),
    ) {
        let Ok(template) = Template::compile(&text) else {
            return Ok(());
        };
        let rendered = render(&template, &request);
        if !text.contains(['{', '[', ']']) {
            prop_assert_eq!(rendered, Some(text.into_bytes()));
        }
    }
}
