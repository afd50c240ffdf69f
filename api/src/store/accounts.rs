use chrono::{DateTime, Utc};
use entity::accounts;
use std::collections::{HashMap, HashSet};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, IntoActiveModel,
    Iterable, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Statement,
    sea_query::OnConflict,
};

use crate::event::AccountChange;

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<accounts::Model>, DbErr> {
    accounts::Entity::find_by_id(id.to_owned()).one(db).await
}

/// Folds `changes`, in order, into the stored accounts (creating those not
/// yet stored): one read and one write however many accounts they touch.
pub async fn apply_all(
    db: &impl ConnectionTrait,
    changes: Vec<AccountChange>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let ids = changes.iter().map(|c| c.account_id.as_str()).collect();
    let stored = match find_many_statement(backend, ids) {
        Some(read) => db.query_all_raw(read).await?,
        None => return Ok(()),
    };
    if let Some(write) = upsert(backend, fold(changes, &stored, now)?) {
        db.execute_raw(write).await?;
    }
    Ok(())
}

/// The read [`fold`] needs: the stored accounts of these ids.
pub fn find_many_statement(backend: DbBackend, mut ids: Vec<&str>) -> Option<Statement> {
    if ids.is_empty() {
        return None;
    }
    ids.sort_unstable();
    ids.dedup();
    let query = accounts::Entity::find().filter(accounts::Column::Id.is_in(ids));
    Some(query.build(backend))
}

/// Folds `changes`, in order, into `stored` (rows of
/// [`find_many_statement`], a superset of the accounts they touch will do)
/// and returns the accounts that changed, whole.
pub fn fold(
    changes: Vec<AccountChange>,
    stored: &[QueryResult],
    now: DateTime<Utc>,
) -> Result<Vec<accounts::Model>, DbErr> {
    let mut accounts = HashMap::with_capacity(stored.len());
    for row in stored {
        let account = accounts::Model::from_query_result(row, "")?;
        accounts.insert(account.id.clone(), account);
    }
    let mut changed = HashSet::new();
    for change in changes {
        let id = change.account_id.clone();
        if let Some(next) = apply(change, accounts.get(&id).cloned(), now) {
            accounts.insert(id.clone(), next);
            changed.insert(id);
        }
    }
    Ok(changed
        .iter()
        .filter_map(|id| accounts.remove(id))
        .collect())
}

/// Writes `rows` as the accounts' whole new state, in one statement.
pub fn upsert(backend: DbBackend, rows: Vec<accounts::Model>) -> Option<Statement> {
    if rows.is_empty() {
        return None;
    }
    let update = OnConflict::column(accounts::Column::Id)
        .update_columns(accounts::Column::iter().filter(|c| !matches!(c, accounts::Column::Id)))
        .to_owned();
    let insert =
        accounts::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
            .on_conflict(update);
    Some(insert.build(backend))
}

/// One page of accounts in id order (stable: ids never change), after `after`.
pub async fn page(
    db: &impl ConnectionTrait,
    status: Option<&str>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<accounts::Model>, DbErr> {
    use accounts::Column;
    let mut query = accounts::Entity::find();
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    query.order_by_asc(Column::Id).limit(limit).all(db).await
}

/// Folds `change` into `current` (or a new account). Returns `None` when
/// the change is older than what the account already reflects.
pub fn apply(
    change: AccountChange,
    current: Option<accounts::Model>,
    now: DateTime<Utc>,
) -> Option<accounts::Model> {
    let mut account = current.unwrap_or_else(|| accounts::Model {
        id: change.account_id.clone(),
        customer_id: None,
        status: None,
        status_subtype: None,
        credit_limit_cents: None,
        available_credit_cents: None,
        total_balance_cents: None,
        min_pay_due_cents: None,
        min_pay_due_at: None,
        days_past_due: None,
        delinquent_as_of: None,
        snapshot: None,
        snapshot_changed_at: None,
        updated_at: now,
    });
    if let (Some(changed_at), Some(seen)) = (change.changed_at, account.snapshot_changed_at)
        && changed_at < seen
    {
        return None;
    }
    overlay(&mut account.customer_id, change.customer_id);
    overlay(&mut account.status, change.status);
    overlay(&mut account.status_subtype, change.status_subtype);
    overlay(&mut account.credit_limit_cents, change.credit_limit_cents);
    overlay(
        &mut account.available_credit_cents,
        change.available_credit_cents,
    );
    overlay(&mut account.total_balance_cents, change.total_balance_cents);
    overlay(&mut account.min_pay_due_cents, change.min_pay_due_cents);
    overlay(&mut account.min_pay_due_at, change.min_pay_due_at);
    overlay(&mut account.days_past_due, change.days_past_due);
    overlay(&mut account.delinquent_as_of, change.delinquent_as_of);
    overlay(&mut account.snapshot, change.snapshot);
    overlay(&mut account.snapshot_changed_at, change.changed_at);
    account.updated_at = now;
    Some(account)
}

/// Sets `slot` when `value` carries something; keeps it otherwise.
fn overlay<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<accounts::Model>, DbErr> {
    accounts::Entity::find()
        .filter(accounts::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn newer_changes_win_and_older_ones_are_ignored() {
        let now = at("2026-01-01T00:00:00Z");
        let first = apply(
            AccountChange {
                account_id: "a".into(),
                status: Some("ACTIVE".into()),
                credit_limit_cents: Some(100),
                changed_at: Some(at("2023-01-02T00:00:00Z")),
                ..Default::default()
            },
            None,
            now,
        )
        .unwrap();
        let stale = AccountChange {
            account_id: "a".into(),
            status: Some("CLOSED".into()),
            changed_at: Some(at("2023-01-01T00:00:00Z")),
            ..Default::default()
        };
        assert_eq!(apply(stale, Some(first.clone()), now), None);

        let flat = AccountChange {
            account_id: "a".into(),
            available_credit_cents: Some(7),
            ..Default::default()
        };
        let flat = apply(flat, Some(first), now).unwrap();
        assert_eq!(flat.status.as_deref(), Some("ACTIVE"));
        assert_eq!(flat.credit_limit_cents, Some(100));
        assert_eq!(flat.available_credit_cents, Some(7));
        assert_eq!(flat.snapshot_changed_at, Some(at("2023-01-02T00:00:00Z")));
    }
}
