use entity::notification_configs::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, NotSet,
    QueryFilter, QueryOrder, TransactionTrait, sea_query::OnConflict,
};

use super::audit_log::{self, NewEntry};
use crate::clock;

/// The slot of a periodic config (others are in the slot of their offset).
const PERIODIC_SLOT: &str = "periodic";

/// A configuration Canopy accepted, in Canopy's names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewConfig {
    pub account_id: String,
    pub notification_type: &'static str,
    pub time_offset: Option<String>,
    pub time: Option<String>,
    pub periodic_interval: Option<&'static str>,
}

/// The configs of every account in `account_ids`, by account, oldest first.
pub async fn for_accounts(
    db: &impl ConnectionTrait,
    account_ids: &[String],
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::AccountId.is_in(account_ids.iter().cloned()))
        .order_by_asc(Column::AccountId)
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// Stores `config` with the audit row of the mutation that made it, in one
/// transaction. An account keeps one config per type and time offset and
/// one periodic config (as Canopy does): a config for a slot already taken
/// replaces it.
pub async fn save(
    db: &DatabaseConnection,
    config: NewConfig,
    audit: NewEntry,
) -> Result<Model, DbErr> {
    let slot = config
        .time_offset
        .clone()
        .unwrap_or_else(|| PERIODIC_SLOT.to_owned());
    let row = ActiveModel {
        id: NotSet,
        account_id: Set(config.account_id),
        notification_type: Set(config.notification_type.to_owned()),
        time_offset: Set(config.time_offset),
        time: Set(config.time),
        periodic_interval: Set(config.periodic_interval.map(str::to_owned)),
        slot: Set(slot),
        updated_at: Set(clock::now()),
    };
    let replace = OnConflict::columns([Column::AccountId, Column::NotificationType, Column::Slot])
        .update_columns([Column::Time, Column::PeriodicInterval, Column::UpdatedAt])
        .to_owned();
    let txn = db.begin().await?;
    // The audit row first: a pooled SQLite connection that has run nothing
    // since a migration changed the schema still prepares statements with
    // the old one, which lacks the index the upsert names. A statement that
    // runs first brings the connection up to date.
    audit_log::insert(&txn, audit).await?;
    let saved = Entity::insert(row)
        .on_conflict(replace)
        .exec_with_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(saved)
}
