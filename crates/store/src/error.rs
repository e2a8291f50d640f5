use thiserror::Error;

/// Errors of the storage layer. Messages name tables and constraints, never values.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("reference to a missing row: {0}")]
    ForeignKey(String),
    #[error("constraint violated: {0}")]
    Check(String),
    #[error("stored value could not be read: {0}")]
    Decode(String),
    #[error("encryption key does not match this store: {0}")]
    KeyMismatch(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Backend(String),
}

/// A stored value that no longer parses into its domain type (a bug or a hand-edited row).
pub(crate) fn decode<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Decode(e.to_string()))
}
