//! SeaORM entities, one module per table. No logic lives here.
pub mod accounts;
pub mod audit_log;
pub mod events;
pub mod notification_configs;
pub mod rejected_deliveries;
