use entity::notification_configs::{Column, Entity, Model};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

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
