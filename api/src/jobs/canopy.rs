//! The double-check of seed 000: after a listed Canopy event is stored,
//! Canopy's own account object, stored through the projection as
//! `refreshAccount` stores it, and attached as the event's `followUp`.
use chrono::{DateTime, Utc};
use serde_json::json;

use super::rfc3339;
use crate::{
    clients::{ClientError, canopy::CanopyClient},
    event::AccountChange,
    ingest,
};

/// `{"account": <Canopy's object>, "fetchedAt": <RFC 3339>}` and the
/// account state it gives, as of `at` (when the request was sent).
pub async fn double_check(
    client: &CanopyClient,
    account_id: &str,
    at: DateTime<Utc>,
) -> Result<(String, AccountChange), ClientError> {
    let object = client.account(account_id).await?;
    let follow_up = json!({"account": object, "fetchedAt": rfc3339(at)}).to_string();
    let change = ingest::canopy::account_state(account_id.to_owned(), object, at);
    Ok((follow_up, change))
}
