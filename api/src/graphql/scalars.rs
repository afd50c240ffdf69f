//! The contract's own scalars. `DateTime` is async-graphql's, for
//! `chrono::DateTime<Utc>` (RFC 3339, read back exactly).
use std::sync::{Mutex, OnceLock};

use async_graphql::{
    ContextBase, InputValueError, InputValueResult, Scalar, ScalarType, Value as GqlValue,
};
use bytes::Bytes;
use serde_json::Value;

use super::{
    error::{GqlError, GqlResult},
    masking,
};
use crate::{
    auth::{Caller, Role},
    ecmascript,
};

/// An amount in minor currency units (a JSON number, 64-bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cents(pub i64);

/// 64-bit integer, minor currency units
#[Scalar(name = "Cents")]
impl ScalarType for Cents {
    fn parse(value: GqlValue) -> InputValueResult<Self> {
        match &value {
            GqlValue::Number(n) => n.as_i64().map(Cents).ok_or_else(|| {
                InputValueError::custom("Cents is a whole number of minor currency units")
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> GqlValue {
        GqlValue::Number(self.0.into())
    }
}

/// JSON as the API returns it, held as JSON text: stored JSON goes out as
/// it is whenever nothing in it is masked, without being parsed into a tree
/// and written again. In a response it is a `Binary` value, which
/// [`super::response`] writes as the text it holds (the only other output
/// values that are `Binary` are JSON text too: pages of events and live
/// events written whole).
///
/// The only way to make one for a response is [`Json::for_caller`] (or
/// [`Rendered::for_caller`]), which masks PII for callers without the `pii`
/// role, so no field returning JSON can forget to. Cheap to clone: one
/// rendering serves every subscriber of a live event.
#[derive(Clone, Debug, PartialEq)]
pub struct Json(Bytes);

impl Json {
    /// Stored JSON text, masked unless the caller may see PII. Passed
    /// through unchanged when serde_json reads it and either the caller may
    /// see PII or it has no PII key; otherwise read (as JavaScript would,
    /// when serde_json cannot), masked as needed and written again.
    pub fn for_caller<T>(ctx: &ContextBase<'_, T>, text: &str) -> GqlResult<Self> {
        Self::stored(text, may_see_pii(ctx))
    }

    pub fn for_caller_opt<T>(
        ctx: &ContextBase<'_, T>,
        text: Option<&str>,
    ) -> GqlResult<Option<Self>> {
        text.map(|text| Self::for_caller(ctx, text)).transpose()
    }

    fn stored(text: &str, may_see_pii: bool) -> GqlResult<Self> {
        let as_it_is = if may_see_pii {
            masking::reads_as_value(text)
        } else {
            masking::has_pii_keys(text) == Some(false)
        };
        if as_it_is {
            return Ok(Self(Bytes::copy_from_slice(text.as_bytes())));
        }
        let mut value = read_stored(text)?;
        if !may_see_pii {
            masking::mask(&mut value);
        }
        Ok(Self::from_value(&value))
    }

    fn from_value(value: &Value) -> Self {
        Self(
            serde_json::to_vec(value)
                .expect("a JSON value writes")
                .into(),
        )
    }

    /// The JSON text.
    #[cfg(test)]
    fn text(&self) -> &[u8] {
        &self.0
    }
}

/// Stored JSON as a value. What serde_json cannot hold but JavaScript reads
/// (a lone surrogate, a number past the double range: a Canopy `data` may
/// carry them) is read as JavaScript would, made representable.
fn read_stored(text: &str) -> GqlResult<Value> {
    serde_json::from_str(text).or_else(|_| {
        ecmascript::parse(text)
            .map(|json| json.to_value())
            .map_err(|e| GqlError::Internal(format!("stored JSON is unreadable: {e}")))
    })
}

fn may_see_pii<T>(ctx: &ContextBase<'_, T>) -> bool {
    ctx.data_opt::<Caller>().is_some_and(|c| c.can(Role::Pii))
}

/// One stored JSON text as each kind of caller sees it (masked, or with
/// PII), each rendered at most once: a live event goes to every matching
/// subscriber, and parsing and masking it for each was most of the fan-out.
#[derive(Debug, Default)]
pub struct Rendered {
    masked: OnceLock<Json>,
    full: OnceLock<Json>,
}

impl Rendered {
    /// [`Json::for_caller`] for `text`, which must be the same every call.
    pub fn for_caller<T>(&self, ctx: &ContextBase<'_, T>, text: &str) -> GqlResult<Json> {
        let may_see_pii = may_see_pii(ctx);
        let cell = if may_see_pii {
            &self.full
        } else {
            &self.masked
        };
        if let Some(json) = cell.get() {
            return Ok(json.clone());
        }
        let json = Json::stored(text, may_see_pii)?;
        Ok(cell.get_or_init(|| json).clone())
    }
}

/// Most renderings an event keeps: one per distinct (selection, role) of
/// the subscriptions it reaches; further ones are rendered each time.
const MAX_RENDERINGS: usize = 8;

/// Names what a subscription selects (its query, operation and variables).
pub type SelectionDigest = [u8; 32];

/// A live event as each subscription's selection renders it for a role,
/// as JSON text: subscriptions with the same selection and role (a
/// dashboard open many times) share one rendering instead of each resolving
/// and writing the event again.
#[derive(Debug, Default)]
pub struct Renderings(Mutex<Vec<(Role, SelectionDigest, Bytes)>>);

impl Renderings {
    pub fn get(&self, role: Role, selection: &SelectionDigest) -> Option<Bytes> {
        self.lock()
            .iter()
            .find(|(r, s, _)| *r == role && s == selection)
            .map(|(_, _, text)| text.clone())
    }

    pub fn keep(&self, role: Role, selection: &SelectionDigest, text: Bytes) {
        let mut kept = self.lock();
        let known = kept.iter().any(|(r, s, _)| *r == role && s == selection);
        if !known && kept.len() < MAX_RENDERINGS {
            kept.push((role, *selection, text));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Role, SelectionDigest, Bytes)>> {
        // Each change is one push: a panic cannot leave it half made.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Any JSON value
#[Scalar(name = "JSON")]
impl ScalarType for Json {
    fn parse(value: GqlValue) -> InputValueResult<Self> {
        value
            .into_json()
            .map(|value| Self::from_value(&value))
            .map_err(|e| InputValueError::custom(e.to_string()))
    }

    fn to_value(&self) -> GqlValue {
        GqlValue::Binary(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(text: &str, may_see_pii: bool) -> String {
        let json = Json::stored(text, may_see_pii).unwrap();
        String::from_utf8(json.text().to_vec()).unwrap()
    }

    #[test]
    fn text_without_pii_passes_through_for_every_role() {
        // Spacing and number forms show it is the stored text itself.
        let text = r#"{ "account_id": "a-1", "amount": 1.50e2, "tags": [ ] }"#;
        assert_eq!(out(text, false), text);
        assert_eq!(out(text, true), text);
    }

    #[test]
    fn text_with_pii_passes_through_only_for_callers_who_may_see_it() {
        let text = r#"{"customer": {"Date-Of-Birth": "1985-06-20"}, "n": 1.0}"#;
        assert_eq!(out(text, true), text);
        assert_eq!(
            out(text, false),
            r#"{"customer":{"Date-Of-Birth":"*****"},"n":1.0}"#
        );
    }

    #[test]
    fn text_serde_json_cannot_read_is_read_as_javascript_would() {
        // A lone surrogate and a number past the double range: not passed
        // through, whatever the role.
        for may_see_pii in [false, true] {
            let read = out(r#"{"s": "\ud800", "n": 1e400}"#, may_see_pii);
            let value: Value = serde_json::from_str(&read).unwrap();
            // JSON.stringify writes Infinity as null.
            assert!(value["s"].is_string() && value["n"].is_null(), "{read}");
        }
    }

    #[test]
    fn input_values_become_json_text() {
        let value = GqlValue::from_json(serde_json::json!({"a": [1, "b"]})).unwrap();
        assert_eq!(Json::parse(value).unwrap().text(), br#"{"a":[1,"b"]}"#);
    }
}
