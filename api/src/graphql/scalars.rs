//! The contract's own scalars. `DateTime` is async-graphql's, for
//! `chrono::DateTime<Utc>` (RFC 3339, read back exactly).
use std::sync::{Arc, OnceLock};

use async_graphql::{
    Context, InputValueError, InputValueResult, Scalar, ScalarType, Value as GqlValue,
};
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

/// JSON as the API returns it. The only way to make one for a response is
/// [`Json::for_caller`] (or [`Rendered::for_caller`]), which masks PII for
/// callers without the `pii` role, so no field returning JSON can forget to.
/// Shared: one rendering serves every subscriber of a live event.
#[derive(Clone, Debug, PartialEq)]
pub struct Json(Arc<GqlValue>);

impl Json {
    /// Stored JSON text, masked unless the caller may see PII.
    pub fn for_caller(ctx: &Context<'_>, text: &str) -> GqlResult<Self> {
        Self::render(text, may_see_pii(ctx))
    }

    pub fn for_caller_opt(ctx: &Context<'_>, text: Option<&str>) -> GqlResult<Option<Self>> {
        text.map(|text| Self::for_caller(ctx, text)).transpose()
    }

    fn render(text: &str, may_see_pii: bool) -> GqlResult<Self> {
        let mut value = read_stored(text)?;
        if !may_see_pii {
            masking::mask(&mut value);
        }
        let value = GqlValue::from_json(value)
            .map_err(|e| GqlError::Internal(format!("stored JSON is unrepresentable: {e}")))?;
        Ok(Self(Arc::new(value)))
    }
}

fn may_see_pii(ctx: &Context<'_>) -> bool {
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
    pub fn for_caller(&self, ctx: &Context<'_>, text: &str) -> GqlResult<Json> {
        let may_see_pii = may_see_pii(ctx);
        let cell = if may_see_pii {
            &self.full
        } else {
            &self.masked
        };
        if let Some(json) = cell.get() {
            return Ok(json.clone());
        }
        let json = Json::render(text, may_see_pii)?;
        Ok(cell.get_or_init(|| json).clone())
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

/// Any JSON value
#[Scalar(name = "JSON")]
impl ScalarType for Json {
    fn parse(value: GqlValue) -> InputValueResult<Self> {
        // Through JSON, so what is not JSON (an enum) is read as JSON reads it.
        let json = value
            .into_json()
            .map_err(|e| InputValueError::custom(e.to_string()))?;
        GqlValue::from_json(json)
            .map(|value| Self(Arc::new(value)))
            .map_err(|e| InputValueError::custom(e.to_string()))
    }

    fn to_value(&self) -> GqlValue {
        GqlValue::clone(&self.0)
    }
}
