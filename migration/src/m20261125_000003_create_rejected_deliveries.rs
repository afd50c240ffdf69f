use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RejectedDeliveries::Table)
                    .col(big_pk_auto(RejectedDeliveries::Id))
                    .col(string(RejectedDeliveries::Source))
                    .col(string(RejectedDeliveries::Reason))
                    .col(integer(RejectedDeliveries::Status))
                    .col(string_null(RejectedDeliveries::RemoteAddr))
                    .col(big_integer(RejectedDeliveries::BodyBytes))
                    .col(string(RejectedDeliveries::BodySha256))
                    .col(timestamp_with_time_zone(RejectedDeliveries::ReceivedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RejectedDeliveries::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RejectedDeliveries {
    Table,
    Id,
    Source,
    Reason,
    Status,
    RemoteAddr,
    BodyBytes,
    BodySha256,
    ReceivedAt,
}
