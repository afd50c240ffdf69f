use entity::audit_log::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, NotSet,
    QueryTrait, Statement,
};

use super::page;
use crate::clock;

/// One mutation as the audit log keeps it; `input` is JSON text, already
/// masked (the log never holds PII).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEntry {
    pub key_id: String,
    pub action: String,
    pub input: String,
    /// `OK` or the error code answered.
    pub outcome: String,
}

/// Writes `entry`, timed now; inside the transaction of what the mutation
/// stored, when it stored something.
pub async fn insert(db: &impl ConnectionTrait, entry: NewEntry) -> Result<(), DbErr> {
    db.execute_raw(insert_statement(db.get_database_backend(), entry))
        .await?;
    Ok(())
}

/// The statement [`insert`] runs, for a transaction built of statements.
pub fn insert_statement(backend: DbBackend, entry: NewEntry) -> Statement {
    let row = ActiveModel {
        id: NotSet,
        key_id: Set(entry.key_id),
        action: Set(entry.action),
        input: Set(entry.input),
        outcome: Set(entry.outcome),
        at: Set(clock::now()),
    };
    Entity::insert(row).build(backend)
}

pub async fn newest_first(
    db: &impl ConnectionTrait,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    page::newest_first::<Entity>(db, Column::Id, Condition::all(), before, limit).await
}
