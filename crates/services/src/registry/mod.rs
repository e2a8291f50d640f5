//! The registry: areas, places, households, persons, tags.

mod areas;
mod assists;
pub mod boundary;
mod households;
mod persons;
mod places;
mod tags;
mod visits;
mod work_orders;

pub use areas::{CreateArea, check_area_against_parent};
pub use assists::{ASSIST_TEXT_MAX, RequestAssist, assist_conflict, helper_roles};
pub use households::{AddMember, CreateHousehold};
pub use persons::{CreatePerson, PersonListQuery, SearchKind, SearchResult};
pub use places::CreatePlace;
pub use tags::AssignTag;
pub use visits::{Observations, RecordVisit, VisitTag};
pub use work_orders::{
    ACTION_TEXT_MAX, DESCRIPTION_MAX, ReportWorkOrder, TITLE_MAX, extension_hours,
    transition_conflict,
};

use wangge_store::Store;

use crate::Clock;

/// Registry use cases. Every method takes the caller's scope and passes it to the store.
#[derive(Clone)]
pub struct Registry {
    pub store: Store,
    pub clock: Clock,
}

impl Registry {
    pub fn new(store: Store, clock: Clock) -> Self {
        Registry { store, clock }
    }
}
