use thiserror::Error;
use wangge_domain::DomainError;
use wangge_store::StoreError;

/// What is wrong with one input field, in both UI languages. Never holds the rejected value
/// when it could be personal data (domain messages already guarantee that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl FieldError {
    pub fn new(field: &str, code: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message_zh: zh.into(),
            message_en: en.into(),
        }
    }

    pub fn from_domain(field: &str, e: &DomainError) -> Self {
        FieldError::new(field, e.code(), e.message_zh(), e.message_en())
    }

    pub fn required(field: &str) -> Self {
        FieldError::new(field, "required", "此项必填", "This field is required")
    }

    pub fn unknown_reference(field: &str) -> Self {
        FieldError::new(
            field,
            "reference.unknown",
            "引用的对象不存在或不在您的管辖范围内",
            "The referenced record does not exist or is outside your area",
        )
    }
}

/// Errors of the use-case layer. Each maps to one HTTP status in the web layer.
#[derive(Debug, Error)]
pub enum ServiceError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error("conflict: {code}")]
    Conflict {
        code: &'static str,
        message_zh: String,
        message_en: String,
    },
    #[error(transparent)]
    Store(StoreError),
}

impl ServiceError {
    pub fn invalid(e: FieldError) -> Self {
        ServiceError::Invalid(vec![e])
    }

    pub fn conflict(code: &'static str, zh: &str, en: &str) -> Self {
        ServiceError::Conflict {
            code,
            message_zh: zh.to_owned(),
            message_en: en.to_owned(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            other => ServiceError::Store(other),
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// A referenced row that is missing (or out of scope, which must look the same) is a problem
/// with the input field that named it, not a missing resource.
pub(crate) fn reference<T>(field: &str, r: Result<T, StoreError>) -> Result<T> {
    match r {
        Err(StoreError::NotFound) => {
            Err(ServiceError::invalid(FieldError::unknown_reference(field)))
        }
        other => other.map_err(ServiceError::from),
    }
}
