//! A webhook request as fuzz input, in a text form close to HTTP so that real signed requests
//! make good seeds and libFuzzer's mutations keep most of their structure:
//!
//! ```text
//! <first line: the provider name, or what the target reads in its place>
//! <the full URL>
//! <Name>: <value>        (any number of header lines; a value is any bytes but a newline)
//!
//! <the body: every remaining byte>
//! ```

use hookgate::verify::HeaderSource;

/// One decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest<'a> {
    pub first_line: &'a str,
    pub url: &'a str,
    pub headers: RawHeaders,
    pub body: &'a [u8],
}

/// Headers as raw bytes, so a fuzzed value may hold what a `String` cannot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawHeaders(pub Vec<(String, Vec<u8>)>);

impl HeaderSource for RawHeaders {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.header(name)
    }

    fn is_repeated(&self, name: &str) -> bool {
        self.0.is_repeated(name)
    }
}

impl<'a> WireRequest<'a> {
    /// Reads `data`; `None` when the first two lines are missing or not UTF-8, or a header line
    /// has no `:` or a name that is not UTF-8 (nothing a server would hand to verification).
    pub fn decode(data: &'a [u8]) -> Option<WireRequest<'a>> {
        let mut lines = data.splitn(3, |byte| *byte == b'\n');
        let first_line = std::str::from_utf8(lines.next()?).ok()?;
        let url = std::str::from_utf8(lines.next()?).ok()?;
        let mut rest = lines.next().unwrap_or_default();
        let mut headers = Vec::new();
        loop {
            let (line, after) = match rest.iter().position(|byte| *byte == b'\n') {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &[][..]),
            };
            rest = after;
            if line.is_empty() {
                break;
            }
            let colon = line.iter().position(|byte| *byte == b':')?;
            let name = std::str::from_utf8(&line[..colon]).ok()?;
            let value = line[colon + 1..]
                .strip_prefix(b" ")
                .unwrap_or(&line[colon + 1..]);
            headers.push((name.to_string(), value.to_vec()));
        }
        Some(WireRequest {
            first_line,
            url,
            headers: RawHeaders(headers),
            body: rest,
        })
    }

    /// The query string of the URL (without `#fragment`), empty when there is none.
    pub fn query(&self) -> &'a str {
        let url: &'a str = self.url;
        url.split_once('?')
            .map_or("", |(_, query)| query.split('#').next().unwrap_or_default())
    }
}

/// Writes a request in the form [`WireRequest::decode`] reads.
pub fn encode(first_line: &str, url: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut data = format!("{first_line}\n{url}\n").into_bytes();
    for (name, value) in headers {
        data.extend_from_slice(format!("{name}: {value}\n").as_bytes());
    }
    data.push(b'\n');
    data.extend_from_slice(body);
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_it_encodes() {
        let headers = vec![
            ("Stripe-Signature".to_string(), "t=1,v1=ab".to_string()),
            ("X-Empty".to_string(), String::new()),
        ];
        let data = encode("stripe", "https://h/w?a=1#f", &headers, b"{}\n\nx");
        let request = WireRequest::decode(&data).unwrap();
        assert_eq!(request.first_line, "stripe");
        assert_eq!(request.query(), "a=1");
        assert_eq!(
            request.headers.header("stripe-signature"),
            Some(&b"t=1,v1=ab"[..])
        );
        assert_eq!(request.headers.header("x-empty"), Some(&b""[..]));
        assert_eq!(request.body, b"{}\n\nx");
    }
}
