//! PII masking (contract section 3): the one function every JSON value the
//! API returns goes through for callers without the `pii` role.
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
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

/// The PII keys, in normalized form (see [`pii_tail`]).
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

/// The longest of [`PII_KEYS`]: a longer normalized key is none of them.
const LONGEST_PII_KEY: usize = 17;

/// Providers spell the same key differently (`date_of_birth`,
/// `dateOfBirth`, `DATE-OF-BIRTH`); all of them are the same PII. Compared
/// in normalized form (no `_` or `-`, lower case) without building it.
fn pii_tail(key: &str) -> Option<Tail> {
    if key.is_ascii() {
        // Nearly every key: normalized into a buffer once instead of once
        // per PII key.
        let mut normalized = [0u8; LONGEST_PII_KEY];
        let mut len = 0;
        for byte in key.bytes().filter(|b| *b != b'_' && *b != b'-') {
            *normalized.get_mut(len)? = byte.to_ascii_lowercase();
            len += 1;
        }
        let normalized = &normalized[..len];
        return PII_KEYS
            .iter()
            .find(|(pii, _)| pii.as_bytes() == normalized)
            .map(|(_, tail)| *tail);
    }
    // Lower-casing other characters can give ASCII ones (the Kelvin sign
    // gives `k`).
    let normalized = || {
        key.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
    };
    PII_KEYS
        .iter()
        .find(|(pii, _)| normalized().eq(pii.chars()))
        .map(|(_, tail)| *tail)
}

/// Whether JSON text has a PII key at any depth (so [`mask`] would change
/// it), read without building a value; `None` when serde_json would not
/// read it as a [`Value`] (not JSON, a number past the double range, a lone
/// surrogate, nested too deep).
pub fn has_pii_keys(text: &str) -> Option<bool> {
    scan(text, false)
}

/// Whether serde_json reads JSON text as a [`Value`]; keys are not looked at.
pub fn reads_as_value(text: &str) -> bool {
    scan(text, true).is_some()
}

/// `pii` starts as given; once true, keys are no longer compared.
fn scan(text: &str, mut pii: bool) -> Option<bool> {
    let mut reader = serde_json::Deserializer::from_str(text);
    Scan(&mut pii).deserialize(&mut reader).ok()?;
    reader.end().ok()?;
    Some(pii)
}

/// Visits a JSON value the way serde_json reads a [`Value`] (every number
/// and string decoded, so it fails where that fails), noting PII keys.
struct Scan<'a>(&'a mut bool);

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        while items.next_element_seed(Scan(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Key(&mut *self.0))?.is_some() {
            map.next_value_seed(Scan(&mut *self.0))?;
        }
        Ok(())
    }
}

/// An object key; notes whether it is PII.
struct Key<'a>(&'a mut bool);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Key<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<(), E> {
        if !*self.0 {
            *self.0 = pii_tail(key).is_some();
        }
        Ok(())
    }
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
    fn pii_keys_are_found_in_text_exactly_where_mask_would_change_it() {
        let cases = [
            r#"{"a": [1, {"b": "c"}], "d": null, "e": 1.5}"#,
            r#"{"customers": [{"controller": {"SSN": null}}]}"#,
            r#"{"x": {"y": [{"z": {"Bank-Routing-Number": "012345678"}}]}}"#,
            r#"{"name\u005ffirst": "Ann"}"#,
            r#"["email", {"emails": "a@b"}]"#,
            r#""ssn""#,
            "12",
        ];
        for text in cases {
            let value: Value = serde_json::from_str(text).unwrap();
            let changed = masked(value.clone()) != value;
            let null_pii = text.contains("SSN");
            assert_eq!(has_pii_keys(text), Some(changed || null_pii), "{text}");
            assert!(reads_as_value(text), "{text}");
        }
    }

    #[test]
    fn text_serde_json_would_not_read_is_not_scanned() {
        for text in [
            "",
            "{",
            r#"{"a": 1} x"#,
            r#"{"a": 1e400}"#,
            r#"{"a": "\ud800"}"#,
            "nul",
            &format!("{}{}", "[".repeat(200), "]".repeat(200)),
        ] {
            assert_eq!(has_pii_keys(text), None, "{text}");
            assert!(!reads_as_value(text), "{text}");
            assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn keys_in_other_scripts_match_as_they_lower_case() {
        let longest = PII_KEYS.iter().map(|(key, _)| key.len()).max();
        assert_eq!(longest, Some(LONGEST_PII_KEY));
        let value = masked(json!({
            "BAN\u{212A}_ACCOUNT_NUMBER": "123456789",
            "b_a_n_k_a_c_c_o_u_n_t_n_u_m_b_e_r": "987654321",
            "bankaccountnumbers": "1",
            "\u{e9}mail": "a@b",
        }));
        assert_eq!(
            value,
            json!({
                "BAN\u{212A}_ACCOUNT_NUMBER": "*****6789",
                "b_a_n_k_a_c_c_o_u_n_t_n_u_m_b_e_r": "*****4321",
                "bankaccountnumbers": "1",
                "\u{e9}mail": "a@b",
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
