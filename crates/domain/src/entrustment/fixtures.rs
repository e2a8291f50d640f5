//! One entrustment as W1 tells it, for the tests of this module: a three-day window replacement,
//! a grid worker and a colleague named, a manager who is not.

use time::OffsetDateTime;
use time::macros::datetime;

use super::key::{Company, KeyNote};
use super::*;
use crate::name::PersonName;
use crate::phone::PhoneNumber;

pub const START: OffsetDateTime = datetime!(2026-11-11 00:00 +08:00);
pub const END: OffsetDateTime = datetime!(2026-11-14 00:00 +08:00);
/// When staff propose the terms, and when the resident confirms them.
pub const PROPOSED: OffsetDateTime = datetime!(2026-11-09 10:00 +08:00);
pub const CONFIRMED: OffsetDateTime = datetime!(2026-11-09 10:05 +08:00);
/// The grid worker and a colleague, both named; a manager who is not.
pub const WORKER: StaffId = StaffId(1);
pub const COLLEAGUE: StaffId = StaffId(2);
pub const MANAGER: StaffId = StaffId(9);

pub fn terms(acts: &[EntrustedAct]) -> Terms {
    Terms {
        purpose: Purpose::parse("更换节能窗").unwrap(),
        period: EntrustmentPeriod::new(START, END).unwrap(),
        permissions: Permissions::new(acts.iter().copied()).unwrap(),
        channel: ContactChannel::Sms,
        staff: NamedStaff::new([WORKER, COLLEAGUE]).unwrap(),
    }
}

pub const ALL_ACTS: &[EntrustedAct] = &EntrustedAct::ALL;

/// Confirmed by the resident, allowing `acts`.
pub fn active(acts: &[EntrustedAct]) -> Entrustment {
    Entrustment::propose(terms(acts), PROPOSED)
        .unwrap()
        .apply(
            EntrustmentStep::Confirm,
            EntrustmentParty::Resident,
            CONFIRMED,
            &Custody::new(),
        )
        .unwrap()
}

pub fn lend(expected_return: OffsetDateTime, supervisor: StaffId) -> Lend {
    Lend {
        contractor: PersonName::parse("张师傅").unwrap(),
        company: Company::parse("晋阳门窗公司").unwrap(),
        phone: PhoneNumber::parse("13912345678").unwrap(),
        expected_return,
        supervisor,
    }
}

pub fn note(s: &str) -> KeyNote {
    KeyNote::parse(s).unwrap()
}

pub fn slot(s: &str) -> CabinetSlot {
    CabinetSlot::parse(s).unwrap()
}
