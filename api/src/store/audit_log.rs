use entity::audit_log::{Column, Entity, Model};
use sea_orm::{Condition, ConnectionTrait, DbErr};

use super::page;

pub async fn newest_first(
    db: &impl ConnectionTrait,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    page::newest_first::<Entity>(db, Column::Id, Condition::all(), before, limit).await
}
