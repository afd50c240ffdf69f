//! SeaORM entities, one module per table. No logic lives here.
pub mod accounts;
pub mod audit_log;
pub mod companies;
pub mod company_records;
pub mod events;
pub mod follow_ups;
pub mod notification_configs;
pub mod rejected_deliveries;
