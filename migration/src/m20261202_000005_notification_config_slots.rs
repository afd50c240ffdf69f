use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD_INDEX: &str = "notification_configs_account_type";
const NEW_INDEX: &str = "notification_configs_account_type_slot";

/// Canopy keeps several notification configs per account and type: one per
/// time offset, and one periodic. The unique (account, type) index of
/// `m20261125_000004` becomes one on (account, type, slot), where the slot
/// is the time offset, or `periodic`.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(drop_index(OLD_INDEX)).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationConfigs::Table)
                    .add_column(string(NotificationConfigs::Slot).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE notification_configs SET slot = COALESCE(time_offset, 'periodic')",
            )
            .await?;
        manager.create_index(unique_index(NEW_INDEX, true)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(drop_index(NEW_INDEX)).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationConfigs::Table)
                    .drop_column(NotificationConfigs::Slot)
                    .to_owned(),
            )
            .await?;
        manager.create_index(unique_index(OLD_INDEX, false)).await
    }
}

/// Unique on (account, type), and the slot when `with_slot`.
fn unique_index(name: &str, with_slot: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index
        .name(name)
        .table(NotificationConfigs::Table)
        .col(NotificationConfigs::AccountId)
        .col(NotificationConfigs::NotificationType)
        .unique();
    if with_slot {
        index.col(NotificationConfigs::Slot);
    }
    index
}

fn drop_index(name: &str) -> IndexDropStatement {
    Index::drop()
        .name(name)
        .table(NotificationConfigs::Table)
        .to_owned()
}

#[derive(DeriveIden)]
enum NotificationConfigs {
    Table,
    AccountId,
    NotificationType,
    Slot,
}
