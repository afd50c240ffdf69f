//! Canopy signatures checked against Node itself: random JSON texts of every
//! kind `JSON.parse` reads (numbers of every magnitude and form, huge
//! integers, array-index and repeated keys, escapes and lone surrogates,
//! nesting, any whitespace) are signed by tests/node/canopy_sign.js as
//! Canopy's JavaScript signs them. The gateway must accept every one at
//! `POST /webhooks/canopy`, and a changed text exactly when Node's
//! `JSON.stringify` of it is unchanged.
use std::{
    collections::HashSet,
    io::Write,
    process::{Command, Stdio},
};

use futures::{StreamExt, stream};
use serde_json::Value;

use crate::helpers::{Backend, SECRET, spawn_app};

/// Texts per run; deterministic, so a failure is reproduced by rerunning.
const TEXTS: usize = 5000;
const SEED: u64 = 0x5eed_cafe_f00d_0013;

/// What Node answered for a text `JSON.parse` accepts.
struct Signed {
    stringified: String,
    signature: String,
}

/// One generated text, a changed copy of it, and Node's answers for both.
struct Case {
    text: String,
    node: Signed,
    changed: Option<(String, Option<Signed>)>,
}

fn cases(seed: u64, count: usize) -> Vec<Case> {
    let mut generator = Generator(Rng(seed));
    let texts: Vec<(String, Option<String>)> = (0..count)
        .map(|_| {
            let text = generator.text();
            let changed = generator.change(&text);
            (text, changed)
        })
        .collect();
    let all: Vec<&str> = texts
        .iter()
        .flat_map(|(text, changed)| std::iter::once(text.as_str()).chain(changed.as_deref()))
        .collect();
    let mut answers = node_sign(&all).into_iter();
    texts
        .into_iter()
        .map(|(text, changed)| {
            let node = answers
                .next()
                .unwrap()
                .unwrap_or_else(|| panic!("JSON.parse refused a generated text: {text}"));
            let changed = changed.map(|c| (c, answers.next().unwrap()));
            Case {
                text,
                node,
                changed,
            }
        })
        .collect()
}

/// One Node process signs the whole batch.
fn node_sign(texts: &[&str]) -> Vec<Option<Signed>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/canopy_sign.js");
    let mut node = Command::new("node")
        .args([script, SECRET])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node is installed");
    let mut input = String::new();
    for text in texts {
        input.push_str(&serde_json::to_string(text).unwrap());
        input.push('\n');
    }
    // The script reads all of stdin before it writes: no deadlock.
    node.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(output.status.success(), "node failed");
    let answers: Vec<Option<Signed>> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let answer: Value = serde_json::from_str(line).unwrap();
            let field = |name: &str| answer[name].as_str().unwrap().to_owned();
            (!answer.is_null()).then(|| Signed {
                stringified: field("stringified"),
                signature: field("signature"),
            })
        })
        .collect();
    assert_eq!(answers.len(), texts.len());
    answers
}

/// The gateway's own `JSON.stringify(JSON.parse(text))` is Node's, on the
/// texts that go over HTTP below and three times as many more, and on a
/// changed copy of each (refused when `JSON.parse` refuses it). Fast, and a
/// discrepancy shows with its text rather than as a bare 401.
#[test]
fn stringify_writes_what_node_writes() {
    use api::ecmascript;
    // The same seed: the first TEXTS cases are the ones sent over HTTP.
    let cases = cases(SEED, 4 * TEXTS);
    let texts = cases
        .iter()
        .flat_map(|case| {
            let changed = case.changed.as_ref();
            std::iter::once((&case.text, Some(&case.node)))
                .chain(changed.map(|(text, node)| (text, node.as_ref())))
        })
        .collect::<Vec<_>>();
    let wrong: Vec<String> = texts
        .iter()
        .filter_map(|(text, node)| {
            let ours = ecmascript::parse(text).map(|json| json.stringify()).ok();
            let node = node.map(|n| &n.stringified);
            (ours.as_ref() != node)
                .then(|| format!("text {text:?}\n node {node:?}\n ours {ours:?}"))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} texts differ from Node, e.g.\n{}",
        wrong.len(),
        texts.len(),
        wrong[..wrong.len().min(5)].join("\n")
    );
}

/// Refusals are checked over HTTP on one case in this many: each is a
/// recorded rejection, a write of its own, and the forms of all the changed
/// texts are compared with Node's by the test above.
const REFUSALS_EVERY: usize = 10;

/// Every text Node signed is accepted over HTTP (202, or 200 when an equal
/// `JSON.stringify` form was already stored under the same signature). Then
/// the same body with a changed signature is refused, and a changed text is
/// accepted when Node's form of it is the same (a duplicate: 200), refused
/// with 401 when it differs, and with 400 when `JSON.parse` refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_delivery_node_signs_verifies() {
    let cases = cases(SEED, TEXTS);
    let app = spawn_app(Backend::Sqlite).await;
    let post = |data: &str, signature: &str| {
        let body =
            format!(r#"{{"event":"differential","data":{data},"hmac_signature":"{signature}"}}"#);
        let app = &app;
        async move { app.post_canopy(body).await.status().as_u16() }
    };

    let accepted: Vec<u16> = stream::iter(&cases)
        .map(|case| post(&case.text, &case.node.signature))
        .buffered(32)
        .collect()
        .await;
    for (case, status) in cases.iter().zip(&accepted) {
        assert!(
            matches!(status, 200 | 202),
            "{status} for a text Node signed: {}",
            case.text
        );
    }
    let signatures: HashSet<_> = cases.iter().map(|c| &c.node.signature).collect();
    let created = accepted.iter().filter(|&&s| s == 202).count();
    assert_eq!(
        created,
        signatures.len(),
        "one event per distinct signature"
    );
    assert_eq!(app.events().await.len(), signatures.len());

    // One at a time: concurrent refusals only contend for SQLite's write lock.
    let sampled = || cases.iter().step_by(REFUSALS_EVERY);
    let forged: Vec<u16> = stream::iter(sampled())
        .map(|case| post(&case.text, &forge(&case.node.signature)))
        .buffered(1)
        .collect()
        .await;
    for (case, status) in sampled().zip(forged) {
        assert_eq!(status, 401, "a forged signature for {}", case.text);
    }
    let changed: Vec<(&str, u16, u16)> = stream::iter(sampled())
        .filter_map(|case| async move {
            let (text, node) = case.changed.as_ref()?;
            let expected = match node {
                None => 400,
                Some(n) if n.stringified == case.node.stringified => 200,
                Some(_) => 401,
            };
            Some(async move {
                (
                    text.as_str(),
                    expected,
                    post(text, &case.node.signature).await,
                )
            })
        })
        .buffered(1)
        .collect()
        .await;
    for (text, expected, status) in &changed {
        assert_eq!(status, expected, "changed text {text}");
    }
    // The changes reached all three outcomes, each more than a handful of times.
    for outcome in [200, 401, 400] {
        let seen = changed.iter().filter(|(_, e, _)| *e == outcome).count();
        assert!(seen >= 20, "only {seen} changed texts expecting {outcome}");
    }
}

/// A `data` that `JSON.parse` reads but serde_json cannot hold (lone
/// surrogates, a number past the double range) is accepted, stored exactly
/// as received, and still gives its account and time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_only_javascript_reads_is_stored_as_received() {
    let data = r#"{ "account_id": 1000, "note": "\udc00 \ud83d", "huge": 1e400,
        "time_stamp": "2023-01-30T13:23:38-05:00", "1": 974.5963848909007 }"#;
    let node = node_sign(&[data]).remove(0).expect("JSON.parse reads it");
    let app = spawn_app(Backend::Sqlite).await;
    let body = format!(
        r#"{{"event":"x","data":{data},"hmac_signature":"{}"}}"#,
        node.signature
    );
    assert_eq!(app.post_canopy(body).await.status().as_u16(), 202);
    let events = app.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload, data);
    assert_eq!(events[0].account_id.as_deref(), Some("1000"));
    assert_eq!(
        events[0].occurred_at.unwrap().to_rfc3339(),
        "2023-01-30T18:23:38+00:00"
    );
}

/// The signature with its first character changed: other decoded bytes.
fn forge(signature: &str) -> String {
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    format!("{first}{}", &signature[1..])
}

/// splitmix64: tiny, deterministic, good enough to spread the cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn digits(&mut self, count: usize) -> String {
        (0..count)
            .map(|i| {
                let low = if i == 0 { 1 } else { 0 };
                char::from(b'0' + low + self.below(10 - usize::from(low)) as u8)
            })
            .collect()
    }
}

const MAX_DEPTH: usize = 4;

/// Random JSON texts that `JSON.parse` accepts, written every way JSON
/// allows, and changed copies of them.
struct Generator(Rng);

impl Generator {
    /// A top-level object (Canopy's `data`), compact a fifth of the time.
    fn text(&mut self) -> String {
        let compact = self.0.chance(20);
        let mut out = String::new();
        self.object(&mut out, 0, compact);
        out
    }

    /// One digit or letter replaced by another, when the text has any.
    fn change(&mut self, text: &str) -> Option<String> {
        let spots: Vec<usize> = text
            .char_indices()
            .filter(|(_, c)| c.is_ascii_alphanumeric())
            .map(|(i, _)| i)
            .collect();
        if spots.is_empty() {
            return None;
        }
        let at = self.0.pick(&spots);
        let old = text.as_bytes()[at];
        let pool: &[u8] = if old.is_ascii_digit() {
            b"0123456789"
        } else {
            b"abcdefuxyzEAF"
        };
        let new = loop {
            let new = self.0.pick(pool);
            if new != old {
                break new;
            }
        };
        Some(format!(
            "{}{}{}",
            &text[..at],
            char::from(new),
            &text[at + 1..]
        ))
    }

    fn space(&mut self, out: &mut String, compact: bool) {
        if !compact {
            out.push_str(
                self.0
                    .pick(&["", "", "", " ", "  ", "\n", "\t", "\r\n", "\n    "]),
            );
        }
    }

    fn value(&mut self, out: &mut String, depth: usize, compact: bool) {
        let kinds = if depth >= MAX_DEPTH { 65 } else { 100 };
        match self.0.below(kinds) {
            0..35 => out.push_str(&self.number()),
            35..55 => out.push_str(&self.string()),
            55..65 => out.push_str(self.0.pick(&["true", "false", "null"])),
            65..82 => self.array(out, depth + 1, compact),
            _ => self.object(out, depth + 1, compact),
        }
    }

    /// Up to `max - 1` items, each written by `item`, between `brackets`.
    fn list(
        &mut self,
        out: &mut String,
        brackets: [char; 2],
        max: usize,
        compact: bool,
        mut item: impl FnMut(&mut Self, &mut String),
    ) {
        out.push(brackets[0]);
        let count = self.0.below(max);
        for i in 0..count {
            if i > 0 {
                out.push(',');
            }
            self.space(out, compact);
            item(self, out);
            self.space(out, compact);
        }
        if count == 0 {
            self.space(out, compact);
        }
        out.push(brackets[1]);
    }

    fn array(&mut self, out: &mut String, depth: usize, compact: bool) {
        self.list(out, ['[', ']'], 6, compact, |generator, out| {
            generator.value(out, depth, compact)
        });
    }

    fn object(&mut self, out: &mut String, depth: usize, compact: bool) {
        let mut keys: Vec<String> = Vec::new();
        self.list(out, ['{', '}'], 9, compact, |generator, out| {
            // Repeated names: JSON.parse keeps the first place, last value.
            let key = if !keys.is_empty() && generator.0.chance(15) {
                keys[generator.0.below(keys.len())].clone()
            } else {
                generator.key()
            };
            out.push_str(&key);
            keys.push(key);
            generator.space(out, compact);
            out.push(':');
            generator.space(out, compact);
            generator.value(out, depth, compact);
        });
    }

    /// A member name as written: array indices (and near misses) often.
    fn key(&mut self) -> String {
        let name = match self.0.below(10) {
            0..3 => self
                .0
                .pick(&[
                    "0",
                    "1",
                    "2",
                    "9",
                    "10",
                    "11",
                    "42",
                    "100",
                    "4294967294",
                    "4294967295",
                    "4294967296",
                    "18446744073709551616",
                    "01",
                    "00",
                    "007",
                    "-1",
                    "-0",
                    "1.5",
                    "1e3",
                    "+1",
                    " 1",
                    "1 ",
                    "0x1",
                    r"\u0031",
                    r"1\u0030",
                    r"\u0034\u0032",
                ])
                .to_string(),
            3 => (self.0.next() as u32).to_string(),
            4 => self.0.below(20).to_string(),
            5..8 => self
                .0
                .pick(&[
                    "a",
                    "b",
                    "c",
                    "z",
                    "account_id",
                    "__proto__",
                    "constructor",
                    "toString",
                    "length",
                    "",
                    "é",
                    "data",
                ])
                .to_string(),
            _ => return self.string(),
        };
        format!("\"{name}\"")
    }

    /// A string literal: plain text, every escape, lone and paired
    /// surrogates, raw non-ASCII.
    fn string(&mut self) -> String {
        let mut out = String::from("\"");
        for _ in 0..self.0.below(8) {
            let piece = match self.0.below(12) {
                0 => self
                    .0
                    .pick(&["abc", "Canopy", "x y", "/", "0", "12.5"])
                    .to_string(),
                1 => self
                    .0
                    .pick(&[r#"\""#, r"\\", r"\/", r"\b", r"\f", r"\n", r"\r", r"\t"])
                    .to_string(),
                2 => self.unit(0..0x20),
                3 => self.unit(0x20..0xd800),
                4 => self.unit(0xd800..0xdc00),
                5 => self.unit(0xdc00..0xe000),
                6 => {
                    let (high, low) = (self.unit(0xd800..0xdc00), self.unit(0xdc00..0xe000));
                    if self.0.chance(80) {
                        high + &low
                    } else {
                        low + &high
                    }
                }
                7 => self.unit(0xe000..0x10000),
                8 => self.unit(0xd800..0xdc00) + "😀",
                _ => self
                    .0
                    .pick(&[
                        "é",
                        "ß",
                        "中文",
                        "😀",
                        "𝄞",
                        "\u{7f}",
                        "\u{a0}",
                        "\u{2028}",
                        "\u{2029}",
                        "\u{feff}",
                        "\u{ffff}",
                        "\u{10ffff}",
                    ])
                    .to_string(),
            };
            out.push_str(&piece);
        }
        out.push('"');
        out
    }

    /// A `\uXXXX` escape of a code unit from `units`, in either case.
    fn unit(&mut self, units: std::ops::Range<u32>) -> String {
        let unit = units.start + self.0.below((units.end - units.start) as usize) as u32;
        if self.0.chance(50) {
            format!(r"\u{unit:04x}")
        } else {
            format!(r"\u{unit:04X}")
        }
    }

    /// A number of any magnitude, 1 to 25 significant digits, in any form.
    fn number(&mut self) -> String {
        let sign = if self.0.chance(30) { "-" } else { "" };
        let (digits, exponent) = match self.0.below(10) {
            // Integers around 2^53, 2^63 and 2^64, and far beyond.
            0 => {
                let base: u128 = self.0.pick(&[1 << 53, 1 << 63, 1 << 64]);
                let near = base as i128 + self.0.range(-3, 3) as i128;
                return format!("{sign}{near}");
            }
            1 => {
                let count = self.0.range(20, 40) as usize;
                return format!("{sign}{}", self.0.digits(count));
            }
            2 => {
                return self
                    .0
                    .pick(&[
                        "0",
                        "-0",
                        "0.0",
                        "-0.0",
                        "0e0",
                        "-0E-5",
                        "1e400",
                        "-1e400",
                        "1e-400",
                        "5e-324",
                        "2.4703282292062327e-324",
                        "2.4703282292062328e-324",
                        "1.7976931348623157e308",
                        "1.7976931348623158e308",
                        "1.7976931348623159e308",
                        "1e21",
                        "999999999999999999999",
                        "1e-7",
                        "0.000001",
                        "0.0000001",
                        "974.5963848909007",
                    ])
                    .to_string();
            }
            // A random double, shortest or to 1..17 correctly rounded digits.
            3..6 => {
                let double = loop {
                    let d = f64::from_bits(self.0.next());
                    if d.is_finite() {
                        break d.abs();
                    }
                };
                let written = if self.0.chance(30) {
                    format!("{double:e}")
                } else {
                    format!("{double:.*e}", self.0.below(17))
                };
                let (mantissa, exponent) = written.split_once('e').unwrap();
                let digits = mantissa.replace('.', "");
                let exponent: i64 = exponent.parse().unwrap();
                (digits.clone(), exponent - (digits.len() as i64 - 1))
            }
            // Random digits, mostly near the magnitudes where printing
            // switches form (1e21, 1e-7).
            _ => {
                let count = if self.0.chance(90) {
                    self.0.range(1, 17)
                } else {
                    self.0.range(18, 25)
                } as usize;
                let magnitude = if self.0.chance(60) {
                    self.0.range(-12, 25)
                } else {
                    self.0.range(-330, 310)
                };
                (self.0.digits(count), magnitude - (count as i64 - 1))
            }
        };
        // The value is sign digits × 10^exponent; write it some way.
        let padded = format!("{digits}{}", "0".repeat(self.0.below(3)));
        let exponent = exponent - (padded.len() - digits.len()) as i64;
        format!("{sign}{}", self.write(&padded, exponent))
    }

    /// `digits × 10^exponent` as plain decimal, `d.ddde±x` or `ddde±x`.
    fn write(&mut self, digits: &str, exponent: i64) -> String {
        let e = self.0.pick(&["e", "E"]);
        let zeros = "0".repeat(self.0.below(2));
        match self.0.below(3) {
            0 if (-40..=40).contains(&exponent) => {
                if exponent >= 0 {
                    format!("{digits}{}", "0".repeat(exponent as usize))
                } else {
                    let point = digits.len() as i64 + exponent;
                    if point > 0 {
                        format!(
                            "{}.{}",
                            &digits[..point as usize],
                            &digits[point as usize..]
                        )
                    } else {
                        format!("0.{}{digits}", "0".repeat(-point as usize))
                    }
                }
            }
            1 => {
                let power = exponent + digits.len() as i64 - 1;
                let sign = if power < 0 {
                    "-"
                } else {
                    self.0.pick(&["", "+"])
                };
                let rest = &digits[1..];
                let fraction = if rest.is_empty() {
                    String::new()
                } else {
                    format!(".{rest}")
                };
                format!("{}{fraction}{e}{sign}{zeros}{}", &digits[..1], power.abs())
            }
            _ => {
                let sign = if exponent < 0 {
                    "-"
                } else {
                    self.0.pick(&["", "+"])
                };
                format!("{digits}{e}{sign}{zeros}{}", exponent.abs())
            }
        }
    }
}
