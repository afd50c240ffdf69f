//! The contract's own scalars. `DateTime` is async-graphql's, for
//! `chrono::DateTime<Utc>` (RFC 3339, read back exactly).
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
/// [`Json::for_caller`], which masks PII for callers without the `pii` role,
/// so no field returning JSON can forget to.
#[derive(Clone, Debug, PartialEq)]
pub struct Json(Value);

impl Json {
    /// Stored JSON text, masked unless the caller may see PII.
    pub fn for_caller(ctx: &Context<'_>, text: &str) -> GqlResult<Self> {
        let mut value = read_stored(text)?;
        let may_see_pii = ctx.data_opt::<Caller>().is_some_and(|c| c.can(Role::Pii));
        if !may_see_pii {
            masking::mask(&mut value);
        }
        Ok(Self(value))
    }

    pub fn for_caller_opt(ctx: &Context<'_>, text: Option<&str>) -> GqlResult<Option<Self>> {
        text.map(|text| Self::for_caller(ctx, text)).transpose()
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
        value
            .into_json()
            .map(Self)
            .map_err(|e| InputValueError::custom(e.to_string()))
    }

    fn to_value(&self) -> GqlValue {
        GqlValue::from_json(self.0.clone()).unwrap_or(GqlValue::Null)
    }
}
