//! Domain types and rules of Wangge: codes, ID numbers, phones, scopes, names. No I/O.
//!
//! Values are parsed, not validated: every type here can only be built from input that passed
//! its rules, so holding one is proof of validity.

pub mod access;
pub mod area;
pub mod assist;
pub mod campaign;
pub mod entrustment;
pub mod error;
pub mod id_number;
pub mod name;
pub mod notification;
pub mod phone;
pub mod place;
pub mod reason;
pub mod relation;
pub mod residence;
pub mod scope;
pub mod sex;
pub mod tag;
pub mod visit;
pub mod work_order;

pub use access::{NewPassword, Permission, Role, SensitivitySet, Username};
pub use area::{AreaCode, AreaLevel, AreaPath};
pub use assist::{AssistError, AssistState, AssistStep, Party};
pub use campaign::{
    CampaignError, CampaignForm, CampaignKind, CampaignState, ContactMode, ItemOutcome, ItemStatus,
    TargetRule,
};
pub use entrustment::{
    Custody, CustodyError, Entrustment, EntrustmentError, EntrustmentState, KeyEvent, KeyHolder,
    ReceiptCode,
};
pub use error::{DomainError, TransitionError};
pub use id_number::IdNumber;
pub use name::{PersonName, normalize_query};
pub use notification::{Channel, NotificationEvent, role_acting_at};
pub use phone::PhoneNumber;
pub use place::{PlaceKind, standard_address};
pub use reason::Reason;
pub use relation::Relation;
pub use residence::ResidenceType;
pub use scope::Scope;
pub use sex::Sex;
pub use tag::{BUILTIN_TAGS, BuiltinTag, Sensitivity, TagCode, TagSubject};
pub use visit::VisitOutcome;
pub use work_order::{
    Action, ActionKind, OrderMetrics, PendingRequest, Priority, Satisfaction, Sla, Suspension,
    Transition, WorkOrder, WorkOrderState,
};
