use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Canopy keeps several notification configs per account and type: one per
/// time offset, and one periodic. The unique (account, type) index of
/// `m20261125_000004` becomes one on (account, type, slot), where the slot
/// is the time offset, or `periodic`.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("notification_configs_account_type")
                    .table(NotificationConfigs::Table)
                    .to_owned(),
            )
            .await?;
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
        manager
            .create_index(
                Index::create()
                    .name("notification_configs_account_type_slot")
                    .table(NotificationConfigs::Table)
                    .col(NotificationConfigs::AccountId)
                    .col(NotificationConfigs::NotificationType)
                    .col(NotificationConfigs::Slot)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("notification_configs_account_type_slot")
                    .table(NotificationConfigs::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(NotificationConfigs::Table)
                    .drop_column(NotificationConfigs::Slot)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notification_configs_account_type")
                    .table(NotificationConfigs::Table)
                    .col(NotificationConfigs::AccountId)
                    .col(NotificationConfigs::NotificationType)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum NotificationConfigs {
    Table,
    AccountId,
    NotificationType,
    Slot,
}
