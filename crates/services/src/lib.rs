//! Use cases over the store: registry upkeep with its rules, area import, the demo city.
//! Inputs arrive parsed into domain types; what needs the database to check (parents, levels,
//! duplicates, scope) is checked here.

pub mod areas_import;
pub mod attachments;
pub mod audit_writer;
pub mod campaigns;
pub mod clock;
pub mod demo;
pub mod entrustments;
mod error;
pub mod identity;
pub mod jobs;
pub mod metrics;
pub mod notifications;
pub mod registry;
pub mod storage;

pub use clock::{Clock, Now};
pub use error::{FieldError, Result, ServiceError};
pub use registry::Registry;
