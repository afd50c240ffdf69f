use chrono::{DateTime, Utc};
use entity::accounts;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::projection::AccountChange;

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<accounts::Model>, DbErr> {
    accounts::Entity::find_by_id(id.to_owned()).one(db).await
}

/// Folds `change` into the stored account, creating it if needed.
pub async fn apply(
    db: &impl ConnectionTrait,
    change: AccountChange,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let current = find(db, &change.account_id).await?;
    let exists = current.is_some();
    let Some(next) = change.apply_to(current, now) else {
        return Ok(());
    };
    if exists {
        // Every column is written: the model is the account's whole new state.
        next.into_active_model().reset_all().update(db).await?;
    } else {
        accounts::Entity::insert(next.into_active_model())
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
