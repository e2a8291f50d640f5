//! The resident's own page for an entrustment, without an account. Staff give the resident a
//! link (random, 128 bits) and, when they want to look, a six-digit code through the
//! entrustment's contact channel (a phone call reads it out; a text or WeChat message sends it).
//! The code opens a half-hour view; a few wrong tries void it, and only a few codes a day are
//! issued. On the page the resident confirms the entrustment, revokes it at any time, says the
//! key is back, sees every key event with its receipt code, the photos, and who in the community
//! read or changed their household's records and why.

use rand::Rng;
use time::{Duration, OffsetDateTime};
use wangge_domain::entrustment::EntrustmentStep;
use wangge_domain::{Role, Scope};
use wangge_store::audit::NewAuditEvent;
use wangge_store::entrustments::{CodeCheck, EntrustmentRecord, ResidentView};

use super::entrustment_conflict;
use crate::{Registry, Result, ServiceError};

/// How long a code is good for.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// Codes per entrustment per day.
const CODES_PER_DAY: i64 = 5;
/// How long a view stays open after the code.
const VIEW_TTL: Duration = Duration::minutes(30);

/// What giving a code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenView {
    /// The view is open under this session secret (the page's cookie).
    Opened {
        session: String,
    },
    Wrong {
        tries_left: i64,
    },
    /// No live code: ask staff for a new one.
    NoCode,
}

/// One access to the household's records, in words a resident reads.
#[derive(Debug, Clone)]
pub struct ResidentAccessRow {
    pub at: OffsetDateTime,
    pub who: String,
    pub role_zh: String,
    pub role_en: String,
    pub what_zh: &'static str,
    pub what_en: &'static str,
    pub reason: Option<String>,
}

/// What an audited action on a household's records means, in plain words (zh, en).
pub fn access_phrase(action: &str, object_type: Option<&str>) -> (&'static str, &'static str) {
    match (action, object_type) {
        ("person.read", _) => (
            "查看了家庭成员的信息",
            "looked at a household member's record",
        ),
        ("person.reveal", _) => (
            "查看了家庭成员的完整身份证号或手机号",
            "looked at a member's full ID or phone number",
        ),
        ("household.read", _) => ("查看了您家的登记信息", "looked at your household's record"),
        ("visit.record", _) => ("记录了一次入户走访", "recorded a home visit"),
        ("campaign_item.read", _) => (
            "查看了专项行动中您家的入户情况",
            "looked at your door in a campaign",
        ),
        ("campaign_item.record", _) => (
            "登记了专项行动中您家的入户结果",
            "recorded your door in a campaign",
        ),
        (a, Some("entrustment")) if a.ends_with(".read") => {
            ("查看了您的委托", "looked at your entrustment")
        }
        (_, Some("entrustment")) => (
            "处理了您的委托或钥匙交接",
            "handled your entrustment or key",
        ),
        (_, Some("person")) => (
            "修改了家庭成员的信息",
            "changed a household member's record",
        ),
        (_, Some("household")) => ("修改了您家的登记信息", "changed your household's record"),
        _ => (
            "处理了您家的相关记录",
            "handled a record about your household",
        ),
    }
}

/// Revoked, expired and cancelled entrustments have no resident's page any more.
fn ended(e: &EntrustmentRecord) -> Result<()> {
    use wangge_domain::entrustment::EntrustmentState as S;
    match e.entrustment.state {
        S::Revoked | S::Expired | S::Cancelled => Err(ServiceError::conflict(
            "entrustment.ended",
            "委托已撤销、过期或取消，居民查看链接已失效",
            "The entrustment was revoked, expired or cancelled: the resident's page has ended",
        )),
        _ => Ok(()),
    }
}

fn secret() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Registry {
    /// A new link for the resident (any earlier link stops working); none once the entrustment
    /// was revoked, expired or cancelled.
    pub async fn resident_link(&self, scope: &Scope, id: i64) -> Result<String> {
        let e = self.store.entrustment(scope, id).await?;
        ended(&e)?;
        let link = secret();
        self.store.set_resident_link(scope, id, &link).await?;
        Ok(link)
    }

    /// A new six-digit code for the resident's link, for staff to give through the contact
    /// channel; a conflict once the day's codes are used.
    pub async fn resident_code(&self, scope: &Scope, id: i64) -> Result<String> {
        let e = self.store.entrustment(scope, id).await?;
        ended(&e)?;
        if !e.has_link {
            return Err(ServiceError::conflict(
                "entrustment.no_link",
                "请先为居民生成查看链接",
                "Make the resident's link first",
            ));
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let now = OffsetDateTime::now_utc();
        if !self
            .store
            .issue_resident_code(id, &code, now + CODE_TTL, self.clock.today(), CODES_PER_DAY)
            .await?
        {
            return Err(ServiceError::conflict(
                "entrustment.codes_today",
                "今天的验证码次数已用完，请明天再试",
                "Today's codes for this entrustment are used up; try tomorrow",
            ));
        }
        Ok(code)
    }

    pub async fn open_resident_view(&self, link: &str, code: &str) -> Result<OpenView> {
        let session = secret();
        let now = OffsetDateTime::now_utc();
        let code = code.trim();
        let checked = self
            .store
            .check_resident_code(link, code, now, &session, now + VIEW_TTL)
            .await?;
        Ok(match checked {
            CodeCheck::Opened => OpenView::Opened { session },
            CodeCheck::Wrong { tries_left } => OpenView::Wrong { tries_left },
            CodeCheck::NoCode => OpenView::NoCode,
        })
    }

    /// The resident's page, for a live view session.
    pub async fn resident_view(&self, link: &str, session: &str) -> Result<ResidentView> {
        let rec = self
            .store
            .entrustment_by_view(link, session, OffsetDateTime::now_utc())
            .await?;
        Ok(self.store.resident_view(rec).await?)
    }

    /// A step only the resident takes: confirm, revoke, or say it is done (the key is back).
    /// Audited as the resident's own action.
    pub async fn resident_step(
        &self,
        link: &str,
        session: &str,
        step: EntrustmentStep,
    ) -> Result<EntrustmentRecord> {
        let now = OffsetDateTime::now_utc();
        let rec = self.store.entrustment_by_view(link, session, now).await?;
        let all = Scope::everything();
        let next = self
            .store
            .entrustment_step(&all, rec.id, step, step.by(), now)
            .await?
            .map_err(|e| entrustment_conflict(&e))?;
        let event = NewAuditEvent {
            actor: "resident".into(),
            action: format!("entrustment.{}", step.as_str()),
            object_type: Some("entrustment".into()),
            object_id: Some(rec.id),
            area_path: Some(rec.area_path.as_str().to_owned()),
            outcome: "ok".into(),
            ..Default::default()
        };
        self.store.append_audit(&event).await?;
        Ok(next)
    }

    /// The accesses on the resident's page in words, newest first.
    pub fn access_rows(view: &ResidentView) -> Vec<ResidentAccessRow> {
        view.accesses
            .iter()
            .map(|a| {
                let (what_zh, what_en) = access_phrase(&a.action, a.object_type.as_deref());
                let role = a.role.as_deref().and_then(|r| Role::parse(r).ok());
                ResidentAccessRow {
                    at: a.at,
                    who: a.who.clone(),
                    role_zh: role.map_or_else(String::new, |r| r.name_zh().to_owned()),
                    role_en: role.map_or_else(String::new, |r| r.name_en().to_owned()),
                    what_zh,
                    what_en,
                    reason: a.reason.clone(),
                }
            })
            .collect()
    }
}
