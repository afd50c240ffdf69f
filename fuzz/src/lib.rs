//! Shared by the fuzz targets: inputs written as a small HTTP-like message,
//! so that seeds stay readable and the fuzzer can mutate head and body alike.
use http::{HeaderMap, HeaderName, HeaderValue};

/// A delivery as the fuzzer writes it: `Name: value` lines, a blank line,
/// then the body. Without a blank line the whole input is the body.
pub struct Message<'a> {
    pub head: Vec<(&'a [u8], &'a [u8])>,
    pub body: &'a [u8],
}

impl<'a> Message<'a> {
    pub fn parse(input: &'a [u8]) -> Self {
        let Some(at) = input.windows(2).position(|w| w == b"\n\n") else {
            return Self {
                head: Vec::new(),
                body: input,
            };
        };
        let head = input[..at]
            .split(|&b| b == b'\n')
            .filter_map(|line| {
                let colon = line.iter().position(|&b| b == b':')?;
                Some((&line[..colon], trim(&line[colon + 1..])))
            })
            .collect();
        Self {
            head,
            body: &input[at + 2..],
        }
    }

    /// The head lines that are valid HTTP headers, as a request carries them.
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.head {
            if let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
            {
                headers.append(name, value);
            }
        }
        headers
    }

    /// The value of the first head line named `name` (any case), as text.
    pub fn field(&self, name: &str) -> Option<&'a str> {
        self.head
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    &bytes[start..]
}
