//! Who may do what: roles, the role × permission table, which tag sensitivity classes a role
//! sees, and the rules for user names and passwords. The table is the single source the web
//! layer enforces and docs/SECURITY.md describes.

use std::fmt;

use crate::error::{DomainError, Echo};
use crate::tag::Sensitivity;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    GridWorker,
    CommunityStaff,
    SubdistrictManager,
    DistrictManager,
    /// Users and scopes, areas, the tag catalogue; no resident data, no audit trail.
    Admin,
    /// Unlocks accounts and revokes sessions and tokens; no resident data.
    SecurityOfficer,
    /// Reads the audit trail and changes nothing.
    Auditor,
}

/// Actions a route or use case requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// The area tree and the tag catalogue (structure, no resident data).
    AreasRead,
    /// Places, households, persons and tags on them, masked.
    RegistryRead,
    RegistryWrite,
    /// Plan, launch, reassign and close campaigns; export their item lists.
    CampaignsManage,
    AreasWrite,
    TagCatalogueWrite,
    /// Unmasked ID and phone numbers, with a stated reason, audited.
    RevealPersonal,
    UsersManage,
    SecurityManage,
    AuditRead,
}

impl Permission {
    pub const ALL: [Permission; 10] = [
        Self::AreasRead,
        Self::RegistryRead,
        Self::RegistryWrite,
        Self::CampaignsManage,
        Self::AreasWrite,
        Self::TagCatalogueWrite,
        Self::RevealPersonal,
        Self::UsersManage,
        Self::SecurityManage,
        Self::AuditRead,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::AreasRead => "areas.read",
            Self::RegistryRead => "registry.read",
            Self::RegistryWrite => "registry.write",
            Self::CampaignsManage => "campaigns.manage",
            Self::AreasWrite => "areas.write",
            Self::TagCatalogueWrite => "tags.write",
            Self::RevealPersonal => "personal.reveal",
            Self::UsersManage => "users.manage",
            Self::SecurityManage => "security.manage",
            Self::AuditRead => "audit.read",
        }
    }
}

impl Role {
    pub const ALL: [Role; 7] = [
        Self::GridWorker,
        Self::CommunityStaff,
        Self::SubdistrictManager,
        Self::DistrictManager,
        Self::Admin,
        Self::SecurityOfficer,
        Self::Auditor,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::GridWorker => "grid_worker",
            Self::CommunityStaff => "community_staff",
            Self::SubdistrictManager => "subdistrict_manager",
            Self::DistrictManager => "district_manager",
            Self::Admin => "admin",
            Self::SecurityOfficer => "security_officer",
            Self::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Result<Role, DomainError> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == t.to_ascii_lowercase().replace('-', "_") || r.name_zh() == t)
            .ok_or_else(|| DomainError::Role(Echo::of(t)))
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::GridWorker => "网格员",
            Self::CommunityStaff => "社区工作人员",
            Self::SubdistrictManager => "街道管理人员",
            Self::DistrictManager => "区级管理人员",
            Self::Admin => "系统管理员",
            Self::SecurityOfficer => "安全管理员",
            Self::Auditor => "安全审计员",
        }
    }

    pub fn name_en(&self) -> &'static str {
        match self {
            Self::GridWorker => "grid worker",
            Self::CommunityStaff => "community staff",
            Self::SubdistrictManager => "subdistrict manager",
            Self::DistrictManager => "district manager",
            Self::Admin => "administrator",
            Self::SecurityOfficer => "security officer",
            Self::Auditor => "auditor",
        }
    }

    /// The role × permission table.
    pub fn can(&self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Self::GridWorker => matches!(p, AreasRead | RegistryRead | RegistryWrite),
            Self::CommunityStaff => matches!(
                p,
                AreasRead | RegistryRead | RegistryWrite | CampaignsManage | RevealPersonal
            ),
            Self::SubdistrictManager => matches!(
                p,
                AreasRead
                    | RegistryRead
                    | RegistryWrite
                    | CampaignsManage
                    | RevealPersonal
                    | AreasWrite
            ),
            Self::DistrictManager => matches!(
                p,
                AreasRead
                    | RegistryRead
                    | RegistryWrite
                    | CampaignsManage
                    | RevealPersonal
                    | AreasWrite
                    | TagCatalogueWrite
            ),
            Self::Admin => matches!(p, AreasRead | AreasWrite | TagCatalogueWrite | UsersManage),
            Self::SecurityOfficer => matches!(p, AreasRead | SecurityManage),
            Self::Auditor => matches!(p, AuditRead),
        }
    }

    /// Tag sensitivity classes the role sees. United-front tags are for managers who work
    /// with those groups; roles without resident data see no tags on residents at all.
    pub fn tag_classes(&self) -> SensitivitySet {
        use Sensitivity::*;
        match self {
            Self::GridWorker | Self::CommunityStaff => SensitivitySet::of(&[Care, Control, Health]),
            Self::SubdistrictManager | Self::DistrictManager => SensitivitySet::all(),
            Self::Admin => SensitivitySet::all(),
            Self::SecurityOfficer | Self::Auditor => SensitivitySet::none(),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of tag sensitivity classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SensitivitySet(u8);

impl SensitivitySet {
    fn bit(s: Sensitivity) -> u8 {
        match s {
            Sensitivity::Care => 1,
            Sensitivity::Control => 2,
            Sensitivity::UnitedFront => 4,
            Sensitivity::Health => 8,
        }
    }

    pub fn none() -> Self {
        Self(0)
    }

    pub fn all() -> Self {
        Self::of(&Sensitivity::ALL)
    }

    pub fn of(classes: &[Sensitivity]) -> Self {
        Self(classes.iter().fold(0, |acc, s| acc | Self::bit(*s)))
    }

    pub fn contains(&self, s: Sensitivity) -> bool {
        self.0 & Self::bit(s) != 0
    }

    pub fn is_all(&self) -> bool {
        *self == Self::all()
    }

    /// The set as a bitmask, for storing with a row (campaigns keep their rule's classes).
    pub fn bits(&self) -> u8 {
        self.0
    }

    pub fn from_bits(bits: u8) -> Self {
        Self(bits & Self::all().0)
    }

    pub fn union(self, other: SensitivitySet) -> Self {
        Self(self.0 | other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = Sensitivity> + '_ {
        Sensitivity::ALL.into_iter().filter(|s| self.contains(*s))
    }
}

/// A login name: lower-case ASCII, so it can never be confused across look-alike letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Username, DomainError> {
        let t = s.trim().to_ascii_lowercase();
        let ok = (3..=32).contains(&t.len())
            && t.starts_with(|c: char| c.is_ascii_lowercase())
            && t.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if ok {
            Ok(Username(t))
        } else {
            Err(DomainError::Username)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that meets the policy: at least 10 characters and three of the four classes
/// (upper-case, lower-case, digits, symbols). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;

    pub fn parse(s: &str) -> Result<NewPassword, DomainError> {
        if s.chars().count() < Self::MIN_CHARS {
            return Err(DomainError::PasswordTooShort {
                min: Self::MIN_CHARS,
            });
        }
        let classes = [
            s.chars().any(|c| c.is_uppercase()),
            s.chars().any(|c| c.is_lowercase()),
            s.chars().any(|c| c.is_ascii_digit()),
            s.chars().any(|c| !c.is_alphanumeric()),
        ]
        .into_iter()
        .filter(|x| *x)
        .count();
        if classes < 3 {
            return Err(DomainError::PasswordClasses { found: classes });
        }
        Ok(NewPassword(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duties_are_separated() {
        assert!(!Role::Admin.can(Permission::AuditRead));
        assert!(!Role::Admin.can(Permission::SecurityManage));
        assert!(!Role::Admin.can(Permission::RegistryRead));
        assert!(Role::Auditor.can(Permission::AuditRead));
        for p in Permission::ALL {
            if p != Permission::AuditRead {
                assert!(
                    !Role::Auditor.can(p),
                    "auditor must change and see nothing else: {p:?}"
                );
            }
        }
        assert!(!Role::SecurityOfficer.can(Permission::RegistryRead));
        assert!(!Role::GridWorker.can(Permission::RevealPersonal));
    }

    #[test]
    fn united_front_and_health_classes_follow_roles() {
        assert!(
            !Role::GridWorker
                .tag_classes()
                .contains(Sensitivity::UnitedFront)
        );
        assert!(Role::GridWorker.tag_classes().contains(Sensitivity::Health));
        assert!(Role::DistrictManager.tag_classes().is_all());
        assert_eq!(Role::Auditor.tag_classes(), SensitivitySet::none());
    }

    #[test]
    fn roles_parse_by_code_and_chinese_name() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
            assert_eq!(Role::parse(r.name_zh()).unwrap(), r);
        }
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn password_policy() {
        assert_eq!(
            NewPassword::parse("Short1!").unwrap_err().code(),
            "password.too_short"
        );
        assert_eq!(
            NewPassword::parse("alllowercase").unwrap_err().code(),
            "password.too_simple"
        );
        assert!(NewPassword::parse("Grid-worker-2026").is_ok());
        assert!(NewPassword::parse("gridworker2026!").is_ok());
        assert!(!format!("{:?}", NewPassword::parse("Grid-worker-2026").unwrap()).contains("2026"));
    }

    #[test]
    fn usernames_are_lower_case_ascii() {
        assert_eq!(Username::parse(" Wang.XM ").unwrap().as_str(), "wang.xm");
        assert!(Username::parse("王小明").is_err());
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("1abc").is_err());
    }
}
