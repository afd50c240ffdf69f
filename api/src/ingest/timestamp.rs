//! Lenient date-time reading for provider payloads, which mix RFC 3339 with
//! PostgreSQL's text form (`2023-01-30 13:25:39.4009-05`).
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

/// Reads a JSON string as a date-time; anything else (or an unreadable string) is `None`.
pub fn parse(value: &Value) -> Option<DateTime<Utc>> {
    parse_str(value.as_str()?)
}

pub fn parse_str(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let normalized = text.replacen(' ', "T", 1);
    let with_minutes = normalize_offset(&normalized);
    if let Ok(t) = DateTime::parse_from_rfc3339(&with_minutes) {
        return Some(t.with_timezone(&Utc));
    }
    // A date-time without any offset is read as UTC.
    NaiveDateTime::parse_from_str(&normalized, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// `…-05` → `…-05:00`, `…+0530` → `…+05:30`.
fn normalize_offset(text: &str) -> String {
    let Some(t_pos) = text.find('T') else {
        return text.to_owned();
    };
    let Some(sign_pos) = text[t_pos..].rfind(['+', '-']).map(|p| p + t_pos) else {
        return text.to_owned();
    };
    let (head, offset) = text.split_at(sign_pos);
    let digits = &offset[1..];
    match digits.len() {
        2 if digits.bytes().all(|b| b.is_ascii_digit()) => format!("{head}{offset}:00"),
        4 if digits.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{head}{}:{}", &offset[..3], &offset[3..])
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_providers_send() {
        let cases = [
            ("2022-01-04T09:12:30+00:00", "2022-01-04T09:12:30+00:00"),
            ("2023-07-18T21:51:20.511Z", "2023-07-18T21:51:20.511+00:00"),
            (
                "2023-01-30 13:25:39.4009-05",
                "2023-01-30T18:25:39.400900+00:00",
            ),
            ("9999-12-31 11:59:59+00", "9999-12-31T11:59:59+00:00"),
            ("2024-01-12T00:00:00+0530", "2024-01-11T18:30:00+00:00"),
            ("2024-01-12 00:00:00", "2024-01-12T00:00:00+00:00"),
        ];
        for (input, expected) in cases {
            let got = parse_str(input).unwrap_or_else(|| panic!("{input} unread"));
            assert_eq!(
                got,
                DateTime::parse_from_rfc3339(expected).unwrap(),
                "{input}"
            );
        }
    }

    #[test]
    fn skips_what_is_not_a_date_time() {
        for input in [
            "",
            "yesterday",
            "2022-11-11",
            "12:00:00",
            "2022-13-01T00:00:00Z",
        ] {
            assert_eq!(parse_str(input), None, "{input}");
        }
        assert_eq!(parse(&Value::from(12)), None);
    }
}
