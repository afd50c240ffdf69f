//! The audit log: who ran which mutation, with which input, and how it
//! ended. A mutation that stores something writes its row in the same
//! transaction; one that fails (or is refused) writes it alone. The input is
//! masked as for `read` before it is written, so the log never holds PII.
use std::future::Future;

use async_graphql::{Context, Guard, Name, Value as GqlValue};
use serde_json::Value;

use super::db;
use crate::{
    auth::{Caller, Role},
    graphql::{
        error::{FORBIDDEN, GqlResult},
        guard::RoleGuard,
        masking,
    },
    store::audit_log::{self, NewEntry},
};

pub const OK: &str = "OK";

/// Lets `admin` callers through; a refused call is audited (`FORBIDDEN`).
pub struct AdminMutation;

impl Guard for AdminMutation {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let checked = RoleGuard(Role::Admin).check(ctx).await;
        // Without a caller there is no key to name (the door refuses those).
        if checked.is_err() && ctx.data_opt::<Caller>().is_some() {
            record(ctx, entry(ctx, FORBIDDEN)).await;
        }
        checked
    }
}

/// Runs the mutation `run`, handing it its audit row (outcome `OK`) to
/// write with what it stores; if it fails, the row is written with the
/// error's code instead.
pub async fn audited<T, F>(ctx: &Context<'_>, run: impl FnOnce(NewEntry) -> F) -> GqlResult<T>
where
    F: Future<Output = GqlResult<T>>,
{
    let result = run(entry(ctx, OK)).await;
    if let Err(error) = &result {
        record(ctx, entry(ctx, error.code())).await;
    }
    result
}

/// The audit row of the current mutation field.
fn entry(ctx: &Context<'_>, outcome: &str) -> NewEntry {
    let field = ctx.field();
    NewEntry {
        key_id: ctx
            .data_opt::<Caller>()
            .map_or_else(|| "unknown".to_owned(), |c| c.key_id.clone()),
        action: field.name().to_owned(),
        input: masked_input(field.arguments().unwrap_or_default()),
        outcome: outcome.to_owned(),
    }
}

/// The arguments as one JSON object, PII masked as for `read`.
fn masked_input(arguments: Vec<(Name, GqlValue)>) -> String {
    let mut input: Value = arguments
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.into_json().unwrap_or(Value::Null)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    masking::mask(&mut input);
    input.to_string()
}

/// Writes a row alone; a store that cannot take it is logged, and the
/// mutation's own answer stands.
async fn record(ctx: &Context<'_>, entry: NewEntry) {
    if let Err(error) = audit_log::insert(db(ctx), entry.clone()).await {
        tracing::error!(%error, action = %entry.action, outcome = %entry.outcome, "audit row not written");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn inputs_are_kept_with_pii_masked() {
        let input = GqlValue::from_json(json!({
            "accountId": "acct-1",
            "contact": {"email": "miriam@example.com", "phone_number": "+14105556789"},
        }))
        .unwrap();
        let masked: Value =
            serde_json::from_str(&masked_input(vec![(Name::new("input"), input)])).unwrap();
        assert_eq!(
            masked,
            json!({"input": {
                "accountId": "acct-1",
                "contact": {"email": "*****", "phone_number": "*****6789"},
            }})
        );
        assert_eq!(masked_input(Vec::new()), "{}");
    }
}
