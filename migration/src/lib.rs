//! Store schema. Plain SeaQuery statements, no entity imports, so a migration
//! never changes meaning when an entity does.
pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_events;
mod m20261125_000002_create_accounts;
mod m20261125_000003_create_rejected_deliveries;
mod m20261125_000004_graphql_reads;
mod m20261202_000005_notification_config_slots;
mod m20261202_000006_follow_ups;
mod m20261202_000007_companies;
mod m20261203_000008_event_purge;
mod m20261204_000009_lz4_payloads;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_events::Migration),
            Box::new(m20261125_000002_create_accounts::Migration),
            Box::new(m20261125_000003_create_rejected_deliveries::Migration),
            Box::new(m20261125_000004_graphql_reads::Migration),
            Box::new(m20261202_000005_notification_config_slots::Migration),
            Box::new(m20261202_000006_follow_ups::Migration),
            Box::new(m20261202_000007_companies::Migration),
            Box::new(m20261203_000008_event_purge::Migration),
            Box::new(m20261204_000009_lz4_payloads::Migration),
        ]
    }
}
