//! Reading Prometheus's text exposition format (0.0.4), as a scraper does:
//! `# TYPE` lines and samples `name{label="value",…} value`, label values
//! unescaped.
use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Default)]
pub struct Scrape {
    /// Each metric family's declared type (`counter`, `histogram`…).
    pub types: BTreeMap<String, String>,
    pub samples: Vec<(String, Labels, f64)>,
}

impl Scrape {
    pub fn parse(text: &str) -> Self {
        let mut scrape = Self::default();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                let mut words = comment.split_whitespace();
                if words.next() == Some("TYPE") {
                    let (Some(name), Some(kind)) = (words.next(), words.next()) else {
                        panic!("line {}: a TYPE without a type: {line}", number + 1);
                    };
                    scrape.types.insert(name.to_owned(), kind.to_owned());
                }
                continue;
            }
            let sample =
                sample(line).unwrap_or_else(|why| panic!("line {}: {why}: {line}", number + 1));
            scrape.samples.push(sample);
        }
        scrape
    }

    /// The value of the sample `name` whose labels are exactly `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: Labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|(n, l, _)| n == name && *l == wanted)
            .map(|(_, _, value)| *value)
    }

    /// Every sample named `name`: its labels and value.
    pub fn series(&self, name: &str) -> BTreeMap<Labels, f64> {
        self.samples
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, labels, value)| (labels.clone(), *value))
            .collect()
    }
}

/// `name{labels} value [timestamp]`.
fn sample(line: &str) -> Result<(String, Labels, f64), String> {
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .ok_or("no value")?;
    let (name, mut rest) = line.split_at(name_end);
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_:".contains(c))
    {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut labels = Labels::new();
    if let Some(inside) = rest.strip_prefix('{') {
        let (parsed, after) = label_set(inside)?;
        labels = parsed;
        rest = after;
    }
    let mut words = rest.split_whitespace();
    let value = words.next().ok_or("no value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().map_err(|_| format!("bad value {other:?}"))?,
    };
    if let Some(timestamp) = words.next() {
        timestamp
            .parse::<i64>()
            .map_err(|_| format!("bad timestamp {timestamp:?}"))?;
    }
    if words.next().is_some() {
        return Err("text after the timestamp".into());
    }
    Ok((name.to_owned(), labels, value))
}

/// `k="v",…}` → the labels and what follows the `}`.
fn label_set(mut text: &str) -> Result<(Labels, &str), String> {
    let mut labels = Labels::new();
    loop {
        text = text.trim_start();
        if let Some(after) = text.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = text.find('=').ok_or("a label without a value")?;
        let key = text[..eq].trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("bad label name {key:?}"));
        }
        let quoted = text[eq + 1..]
            .strip_prefix('"')
            .ok_or("an unquoted label value")?;
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        let end = loop {
            match chars.next().ok_or("an unterminated label value")? {
                (i, '"') => break i,
                (_, '\\') => match chars.next().ok_or("a dangling escape")?.1 {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    c => return Err(format!("unknown escape \\{c}")),
                },
                (_, c) => value.push(c),
            }
        };
        if labels.insert(key.to_owned(), value).is_some() {
            return Err(format!("label {key} twice"));
        }
        text = quoted[end + 1..].trim_start();
        text = text.strip_prefix(',').unwrap_or(text);
    }
}

#[test]
fn samples_and_types_are_read_with_escapes() {
    let text = "# HELP a_total things\n# TYPE a_total counter\n\
                a_total{source=\"canopy\",status=\"202\"} 3\n\
                a_total{x=\"q\\\"u\\\\o\\nte\"} 1 1700000000000\n\
                h_bucket{le=\"+Inf\"} 2\nplain 0.5\n";
    let scrape = Scrape::parse(text);
    assert_eq!(scrape.types["a_total"], "counter");
    assert_eq!(
        scrape.value("a_total", &[("source", "canopy"), ("status", "202")]),
        Some(3.0)
    );
    assert_eq!(scrape.value("a_total", &[("x", "q\"u\\o\nte")]), Some(1.0));
    assert_eq!(scrape.value("h_bucket", &[("le", "+Inf")]), Some(2.0));
    assert_eq!(scrape.value("plain", &[]), Some(0.5));
    assert_eq!(scrape.value("a_total", &[("source", "canopy")]), None);
    assert!(sample("bad{x=1} 2").is_err());
    assert!(sample("bad{x=\"1\"}").is_err());
}
