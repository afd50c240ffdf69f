//! ECMAScript's `JSON.parse` and `JSON.stringify`, for signatures that
//! providers compute in JavaScript over a re-serialized object: Canopy signs
//! `JSON.stringify(data)`, so a `data` received in another form verifies
//! through `JSON.stringify(JSON.parse(text))`, which [`parse`] and
//! [`Json::stringify`] give byte for byte. A reader of its own, because
//! JavaScript reads every number as the correctly rounded double, lists
//! array-index keys first and takes lone surrogates (`"\ud800"`), and
//! serde_json does none of these without features that would change number
//! handling for the whole workspace.
use std::fmt::Write;

use indexmap::IndexMap;
use serde_json::{Map, Value};

/// Deeper nesting is refused so that reading (recursive) cannot exhaust the
/// stack: serde_json's limit, which `data` was held to before this reader.
const MAX_DEPTH: usize = 128;

/// A JSON value as `JSON.parse` holds it.
#[derive(Debug)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    /// The number as written; JavaScript holds the nearest double.
    Number(&'a str),
    /// UTF-16 code units, as JavaScript strings are, so lone surrogates fit.
    String(Vec<u16>),
    Array(Vec<Json<'a>>),
    /// Members in received order; a repeated name keeps its first position
    /// and takes the last value, as in `JSON.parse`.
    Object(IndexMap<Vec<u16>, Json<'a>>),
}

#[derive(Debug, thiserror::Error)]
#[error("{what} at byte {at}")]
pub struct ParseError {
    what: &'static str,
    at: usize,
}

/// Reads `text` as `JSON.parse` does: the JSON grammar, nothing more or less
/// (but nested at most [`MAX_DEPTH`] deep).
pub fn parse(text: &str) -> Result<Json<'_>, ParseError> {
    let mut reader = Reader { text, pos: 0 };
    let value = reader.value(0)?;
    reader.skip_whitespace();
    if reader.pos < text.len() {
        return Err(reader.error("unexpected text after the value"));
    }
    Ok(value)
}

impl Json<'_> {
    /// What `JSON.stringify` writes for this value.
    pub fn stringify(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// The value as serde_json holds it, for reading fields: members in
    /// received order, integers exact while they fit 64 bits and other
    /// numbers as the nearest double, a number past the double range
    /// (`1e400`, which JavaScript reads as Infinity) as null, lone
    /// surrogates as U+FFFD. Lossy only where serde_json cannot hold what
    /// `JSON.parse` accepts.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(text) => text
                .parse::<u64>()
                .map(Value::from)
                .or_else(|_| text.parse::<i64>().map(Value::from))
                .unwrap_or_else(|_| {
                    serde_json::Number::from_f64(double(text)).map_or(Value::Null, Value::Number)
                }),
            Self::String(units) => Value::String(String::from_utf16_lossy(units)),
            Self::Array(items) => Value::Array(items.iter().map(Self::to_value).collect()),
            Self::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(name, value)| (String::from_utf16_lossy(name), value.to_value()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    fn write(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Number(text) => {
                let n = double(text);
                // JSON.stringify writes Infinity as null; -0 prints as 0.
                if n.is_finite() {
                    out.push_str(ryu_js::Buffer::new().format_finite(n));
                } else {
                    out.push_str("null");
                }
            }
            Self::String(units) => write_string(out, units),
            Self::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Self::Object(members) => {
                // Array indices first in ascending order, then the other
                // names in creation order (a stable sort keeps it).
                let mut members: Vec<_> = members
                    .iter()
                    .map(|(name, value)| (array_index(name), name, value))
                    .collect();
                members.sort_by_key(|(index, _, _)| (index.is_none(), *index));
                out.push('{');
                for (i, (_, name, value)) in members.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, name);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// The nearest double, as JavaScript reads a number (Rust's parsing is
/// correctly rounded; past the range it gives ±Infinity or ±0 as JS does).
fn double(text: &str) -> f64 {
    text.parse()
        .expect("the JSON number grammar is a subset of Rust's")
}

/// A name that is an array index: the canonical decimal form of an integer
/// from 0 to 2^32 − 2 (so not `01`, `-1`, `1.5` or `4294967295`).
fn array_index(name: &[u16]) -> Option<u32> {
    if name.len() > 10 {
        return None;
    }
    let digits: String = name
        .iter()
        .map(|&unit| char::from_u32(unit.into()).filter(char::is_ascii_digit))
        .collect::<Option<_>>()?;
    let index: u32 = digits.parse().ok()?;
    (index < u32::MAX && index.to_string() == digits).then_some(index)
}

/// A string as well-formed `JSON.stringify` writes it: `"` and `\` escaped,
/// the short escapes for \b \f \n \r \t, other controls and lone surrogates
/// as lowercase `\uXXXX`, everything else (`/`, non-ASCII) raw.
fn write_string(out: &mut String, units: &[u16]) {
    out.push('"');
    for unit in char::decode_utf16(units.iter().copied()) {
        match unit {
            Ok('"') => out.push_str("\\\""),
            Ok('\\') => out.push_str("\\\\"),
            Ok('\u{8}') => out.push_str("\\b"),
            Ok('\u{c}') => out.push_str("\\f"),
            Ok('\n') => out.push_str("\\n"),
            Ok('\r') => out.push_str("\\r"),
            Ok('\t') => out.push_str("\\t"),
            Ok(c) if c < ' ' => write!(out, "\\u{:04x}", u32::from(c)).expect("writes to a String"),
            Ok(c) => out.push(c),
            Err(lone) => {
                write!(out, "\\u{:04x}", lone.unpaired_surrogate()).expect("writes to a String")
            }
        }
    }
    out.push('"');
}

struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn error(&self, what: &'static str) -> ParseError {
        ParseError { what, at: self.pos }
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), ParseError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// JSON's whitespace only: space, tab, line feed, carriage return.
    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// A value, after optional whitespace; `depth` counts the open containers.
    fn value(&mut self, depth: usize) -> Result<Json<'a>, ParseError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(Json::Number),
            _ => self.literal(),
        }
    }

    fn literal(&mut self) -> Result<Json<'a>, ParseError> {
        let rest = &self.text[self.pos..];
        let (length, value) = if rest.starts_with("true") {
            (4, Json::Bool(true))
        } else if rest.starts_with("false") {
            (5, Json::Bool(false))
        } else if rest.starts_with("null") {
            (4, Json::Null)
        } else {
            return Err(self.error("expected a JSON value"));
        };
        self.pos += length;
        Ok(value)
    }

    /// Steps into a container at its opening bracket.
    fn open(&mut self, depth: usize) -> Result<(), ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.pos += 1;
        self.skip_whitespace();
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<Json<'a>, ParseError> {
        self.open(depth)?;
        let mut items = Vec::new();
        if !self.eat(b']') {
            loop {
                items.push(self.value(depth)?);
                self.skip_whitespace();
                if self.eat(b']') {
                    break;
                }
                self.expect(b',', "expected `,` or `]`")?;
            }
        }
        Ok(Json::Array(items))
    }

    fn object(&mut self, depth: usize) -> Result<Json<'a>, ParseError> {
        self.open(depth)?;
        let mut members = IndexMap::new();
        if !self.eat(b'}') {
            loop {
                self.skip_whitespace();
                if self.peek() != Some(b'"') {
                    return Err(self.error("expected a member name"));
                }
                let name = self.string()?;
                self.skip_whitespace();
                self.expect(b':', "expected `:`")?;
                let value = self.value(depth)?;
                // A repeated name keeps its place and takes the new value.
                members.insert(name, value);
                self.skip_whitespace();
                if self.eat(b'}') {
                    break;
                }
                self.expect(b',', "expected `,` or `}`")?;
            }
        }
        Ok(Json::Object(members))
    }

    /// A string at its opening quote, as UTF-16 code units.
    fn string(&mut self) -> Result<Vec<u16>, ParseError> {
        self.pos += 1;
        let mut units = Vec::new();
        loop {
            let rest = &self.text[self.pos..];
            let run = rest
                .find(|c: char| c == '"' || c == '\\' || c < ' ')
                .unwrap_or(rest.len());
            units.extend(rest[..run].encode_utf16());
            self.pos += run;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(units);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    units.push(self.escape()?);
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    /// The code unit an escape stands for (after its backslash). A `\u`
    /// escape is one code unit; pairs are joined when written, as in JS.
    fn escape(&mut self) -> Result<u16, ParseError> {
        let unit = match self.peek() {
            Some(b'"') => 0x22,
            Some(b'\\') => 0x5c,
            Some(b'/') => 0x2f,
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => 0x0a,
            Some(b'r') => 0x0d,
            Some(b't') => 0x09,
            Some(b'u') => {
                let hex = self
                    .text
                    .get(self.pos + 1..self.pos + 5)
                    .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .ok_or_else(|| self.error("expected four hex digits after \\u"))?;
                self.pos += 4;
                u16::from_str_radix(hex, 16).expect("four hex digits")
            }
            _ => return Err(self.error("unknown escape")),
        };
        self.pos += 1;
        Ok(unit)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<&'a str, ParseError> {
        let start = self.pos;
        self.eat(b'-');
        if !self.eat(b'0') {
            self.digits()?;
        }
        if self.eat(b'.') {
            self.digits()?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            self.digits()?;
        }
        Ok(&self.text[start..self.pos])
    }

    fn digits(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        if self.pos == start {
            Err(self.error("expected a digit"))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stringify(text: &str) -> String {
        parse(text).unwrap().stringify()
    }

    /// Expected values are what Node prints for
    /// `JSON.stringify(JSON.parse(input))`.
    #[test]
    fn writes_what_javascript_writes() {
        let cases = [
            (
                r#"{ "b" : 1.0, "a": [1e3, -0, 0.1, 1e21, 1.5e-7] }"#,
                r#"{"b":1,"a":[1000,0,0.1,1e+21,1.5e-7]}"#,
            ),
            (
                r#"{"s": "é/\u00e9\n\u0001\t\"\\"}"#,
                "{\"s\":\"é/é\\n\\u0001\\t\\\"\\\\\"}",
            ),
            (
                r#"{"z": null, "y": true, "x": {"n": 12345678901234567890}}"#,
                r#"{"z":null,"y":true,"x":{"n":12345678901234567000}}"#,
            ),
            (
                r#"{"big": 9007199254740993, "neg": -42, "e": 2.5E+2}"#,
                r#"{"big":9007199254740992,"neg":-42,"e":250}"#,
            ),
            (r#"{"a": 1, "a": 2}"#, r#"{"a":2}"#),
        ];
        for (input, expected) in cases {
            assert_eq!(stringify(input), expected, "{input}");
        }
    }

    // The cases the issue reported; expected values printed by Node.

    #[test]
    fn doubles_are_read_correctly_rounded() {
        assert_eq!(
            stringify(
                r#"{"a": [974.5963848909007, 0.30000000000000004, 2.2250738585072014e-308, 9.007199254740993e15, 1.2345678901234567e-5, 123456.78901234567]}"#
            ),
            r#"{"a":[974.5963848909007,0.30000000000000004,2.2250738585072014e-308,9007199254740992,0.000012345678901234568,123456.78901234567]}"#
        );
    }

    #[test]
    fn integers_past_64_bits_lose_digits_as_in_javascript() {
        assert_eq!(
            stringify(
                r#"{"n": [18446744073709551616, 18446744073709551615, -9223372036854775809, 123456789012345678901234567890, -98765432109876543210987e3]}"#
            ),
            r#"{"n":[18446744073709552000,18446744073709552000,-9223372036854776000,1.2345678901234568e+29,-9.876543210987655e+25]}"#
        );
    }

    #[test]
    fn numbers_print_as_number_to_string() {
        assert_eq!(
            stringify(
                r#"{"x": [1E+3, 1e21, 999999999999999999999, 1e-7, 0.000001, 0.0000012345, 123e-20, -0.0, -0, 0e5, 5e-324, 1.7976931348623157e308, 1e309, -1e400, 1e-400, 100, 1.50]}"#
            ),
            r#"{"x":[1000,1e+21,1e+21,1e-7,0.000001,0.0000012345,1.23e-18,0,0,0,5e-324,1.7976931348623157e+308,null,null,0,100,1.5]}"#
        );
    }

    #[test]
    fn array_index_keys_come_first_in_ascending_order() {
        assert_eq!(
            stringify(
                r#"{"b": 1, "4294967295": 2, "4294967294": 3, "10": 4, "2": 5, "01": 6, "-1": 7, "1.5": 8, "\u0031": 9, "0": 10, "a": {"z": 0, "1": 1}}"#
            ),
            r#"{"0":10,"1":9,"2":5,"10":4,"4294967294":3,"b":1,"4294967295":2,"01":6,"-1":7,"1.5":8,"a":{"1":1,"z":0}}"#
        );
        // A repeated name keeps its first place and takes the last value.
        assert_eq!(
            stringify(r#"{"b": 1, "a": 2, "b": 3, "7": 4, "7": 5, "3": 6}"#),
            r#"{"3":6,"7":5,"b":3,"a":2}"#
        );
    }

    #[test]
    fn lone_surrogates_are_read_and_written_escaped() {
        assert_eq!(
            stringify(
                r#"{"s": "\ud800", "t": "\udc00\ud800", "pair": "\ud83d\ude00", "mixed": "x\uD83Dy\uDE00z", "c": "\u001F\u007f\u2028\u0000", "\ud800": 1}"#
            ),
            concat!(
                r#"{"s":"\ud800","t":"\udc00\ud800","pair":"😀","mixed":"x\ud83dy\ude00z","c":"\u001f"#,
                "\u{7f}\u{2028}",
                r#"\u0000","\ud800":1}"#
            )
        );
    }

    #[test]
    fn refuses_what_json_parse_refuses() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        for text in [
            "",
            " ",
            "01",
            "1.",
            ".5",
            "+1",
            "-",
            "1e",
            "1e+",
            "0x1",
            "NaN",
            "Infinity",
            "tru",
            "[1,]",
            "[1 2]",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            "{a:1}",
            "{1:1}",
            "'a'",
            "\"\t\"",
            r#""\x""#,
            r#""\u12""#,
            r#""\u12g4""#,
            r#""abc"#,
            "{} x",
            "[",
            "\u{a0}1",
            &deep,
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
        let nested = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(stringify(&nested), nested);
        assert_eq!(stringify(" \t\r\n[ ]\n"), "[]");
    }

    #[test]
    fn reads_a_value_serde_json_can_hold() {
        let value = parse(
            r#"{"b": 18446744073709551615, "a": -5, "1": 974.5963848909007, "b": 1e400, "s": "x\ud800", "o": {"k": [1.0, true, null]}}"#,
        )
        .unwrap()
        .to_value();
        // Received order (not JavaScript's), the last of a repeated name.
        assert_eq!(
            value.to_string(),
            r#"{"b":null,"a":-5,"1":974.5963848909007,"s":"x�","o":{"k":[1.0,true,null]}}"#
        );
        let exact = parse("[18446744073709551615, -9223372036854775808]")
            .unwrap()
            .to_value();
        assert_eq!(exact[0].as_u64(), Some(u64::MAX));
        assert_eq!(exact[1].as_i64(), Some(i64::MIN));
    }
}
