use chrono::{DateTime, Utc};
use entity::accounts;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel};

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
