//! PII masking (contract section 3): the one function every JSON value the
//! API returns goes through for callers without the `pii` role.
use serde_json::Value;

/// What replaces a masked value, before any kept tail.
pub const MASK: &str = "*****";

/// How many trailing characters a masked string keeps, and the length it
/// must exceed to keep any.
const TAIL: usize = 4;
const MIN_LEN_FOR_TAIL: usize = 8;

/// Whether the last characters of a value identify without exposing it
/// (what support staff read back: "the card ending 6789"). A birth date's or
/// an address's tail gives away part of the value itself, so those keep none.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tail {
    Keep,
    Drop,
}

/// The PII keys, in normalized form (see [`normalize`]).
const PII_KEYS: &[(&str, Tail)] = &[
    ("ssn", Tail::Keep),
    ("irstin", Tail::Keep),
    ("businessein", Tail::Keep),
    ("dateofbirth", Tail::Drop),
    ("bankaccountnumber", Tail::Keep),
    ("bankroutingnumber", Tail::Keep),
    ("email", Tail::Drop),
    ("phonenumber", Tail::Keep),
    ("passport", Tail::Keep),
    ("namefirst", Tail::Drop),
    ("namemiddle", Tail::Drop),
    ("namelast", Tail::Drop),
    // LoanPro writes `full-name`.
    ("fullname", Tail::Drop),
    ("addresslineone", Tail::Drop),
    ("addresslinetwo", Tail::Drop),
];

/// Providers spell the same key differently (`date_of_birth`,
/// `dateOfBirth`, `DATE-OF-BIRTH`); all of them are the same PII.
fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn pii_tail(key: &str) -> Option<Tail> {
    let key = normalize(key);
    PII_KEYS
        .iter()
        .find(|(pii, _)| *pii == key)
        .map(|(_, tail)| *tail)
}

/// Masks, in place, every value under a PII key at any depth.
pub fn mask(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                match pii_tail(key) {
                    Some(tail) => mask_value(inner, tail),
                    None => mask(inner),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

fn mask_value(value: &mut Value, tail: Tail) {
    let masked = match value {
        Value::Null => return,
        Value::String(s) => masked_string(s, tail),
        // Objects, arrays, numbers and booleans become one masked string:
        // their shape or digits would tell too much.
        _ => MASK.to_owned(),
    };
    *value = Value::String(masked);
}

fn masked_string(s: &str, tail: Tail) -> String {
    let len = s.chars().count();
    if tail == Tail::Drop || len <= MIN_LEN_FOR_TAIL {
        return MASK.to_owned();
    }
    let kept: String = s.chars().skip(len - TAIL).collect();
    format!("{MASK}{kept}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn masked(mut value: Value) -> Value {
        mask(&mut value);
        value
    }

    #[test]
    fn strings_keep_at_most_their_last_four_characters() {
        let value = masked(json!({
            "ssn": "888888888",
            "bank_account_number": "12345678",
            "phone_number": "+14105556789",
            "email": "miriam@example.com",
            "date_of_birth": "1985-06-20",
            "name_first": "Alexandria-Marie",
            "full-name": "Douglas McCallagher",
            "irs_tin": "",
        }));
        assert_eq!(
            value,
            json!({
                "ssn": "*****8888",
                "bank_account_number": "*****",
                "phone_number": "*****6789",
                "email": "*****",
                "date_of_birth": "*****",
                "name_first": "*****",
                "full-name": "*****",
                "irs_tin": "*****",
            })
        );
    }

    #[test]
    fn tails_count_characters_not_bytes() {
        assert_eq!(
            masked(json!({"passport": "ÅÅÅÅÅÅÅÅÅ1€34"})),
            json!({"passport": "*****1€34"})
        );
    }

    #[test]
    fn other_values_become_one_masked_string_and_null_stays_null() {
        let value = masked(json!({
            "passport": {"number": "X123456789", "country": "JP"},
            "ssn": 888888888,
            "email": ["a@example.com"],
            "phone_number": true,
            "name_middle": null,
        }));
        assert_eq!(
            value,
            json!({
                "passport": MASK,
                "ssn": MASK,
                "email": MASK,
                "phone_number": MASK,
                "name_middle": null,
            })
        );
    }

    #[test]
    fn keys_match_at_any_depth_in_any_spelling() {
        let value = masked(json!({
            "customers": [{"business_details": {"controller": {"ssn": "123456789"}}}],
            "dateOfBirth": "1985-06-20",
            "Bank-Routing-Number": "012345678",
            "account_id": "31mNprzLd2bKl6koVna68ARM",
        }));
        assert_eq!(
            value,
            json!({
                "customers": [{"business_details": {"controller": {"ssn": "*****6789"}}}],
                "dateOfBirth": MASK,
                "Bank-Routing-Number": "*****5678",
                "account_id": "31mNprzLd2bKl6koVna68ARM",
            })
        );
    }

    #[test]
    fn values_without_pii_keys_are_untouched() {
        let value = json!({"a": [1, {"b": "c"}], "d": null, "e": 1.5});
        assert_eq!(masked(value.clone()), value);
        assert_eq!(masked(json!("ssn")), json!("ssn"));
    }
}
