use chrono::{DateTime, Utc};
use entity::accounts;
use std::collections::{HashMap, HashSet};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, Iterable, QueryFilter,
    QueryOrder, QuerySelect, sea_query::OnConflict,
};

use crate::projection::AccountChange;

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
    if changes.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<String> = changes.iter().map(|c| c.account_id.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut accounts: HashMap<String, accounts::Model> = find_many(db, &ids)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let mut changed = HashSet::new();
    for change in changes {
        let id = change.account_id.clone();
        if let Some(next) = change.apply_to(accounts.get(&id).cloned(), now) {
            accounts.insert(id.clone(), next);
            changed.insert(id);
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    let rows: Vec<accounts::Model> = changed
        .iter()
        .filter_map(|id| accounts.remove(id))
        .collect();
    // Every column but the key is written: the model is the whole new state.
    let update = OnConflict::column(accounts::Column::Id)
        .update_columns(accounts::Column::iter().filter(|c| !matches!(c, accounts::Column::Id)))
        .to_owned();
    // The snapshot dominates an account's size; the rest is a few hundred bytes.
    let bytes = |a: &accounts::Model| a.snapshot.as_ref().map_or(0, String::len) + 400;
    for chunk in super::statement_chunks(&rows, bytes) {
        let models = chunk
            .iter()
            .cloned()
            .map(IntoActiveModel::into_active_model);
        accounts::Entity::insert_many(models)
            .on_conflict(update.clone())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
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

pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<accounts::Model>, DbErr> {
    accounts::Entity::find()
        .filter(accounts::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await
}
