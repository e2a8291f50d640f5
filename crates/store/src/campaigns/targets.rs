//! A target rule as SQL: one `SELECT` of targets (a household or a person per row, with the
//! place columns an item keeps) used alike by the preview count, the launch that freezes the
//! list, and the on-demand addition of newcomers, so the three can never disagree.

use time::Date;
use wangge_domain::{AreaPath, CampaignError, ResidenceType, Scope, TagSubject};

use crate::db::Value;
use crate::scope_sql::within;
use crate::{Store, StoreError, now, params};

/// A target rule with its codes resolved inside the caller's scope: area paths, tag ids by
/// subject, ages turned into birth-date bounds as of today.
#[derive(Debug, Clone)]
pub struct ResolvedRule {
    pub subject: TagSubject,
    pub areas: Vec<AreaPath>,
    pub person_tags: Vec<i64>,
    pub household_tags: Vec<i64>,
    /// Born on or before this day (the minimum age).
    pub born_by: Option<Date>,
    /// Born after this day (the maximum age).
    pub born_after: Option<Date>,
    pub residence: Vec<ResidenceType>,
    pub places: Vec<i64>,
    pub include_households: Vec<i64>,
    pub exclude_households: Vec<i64>,
    /// Households with a current holder of this tag are worked contactless.
    pub contactless_tag: Option<i64>,
}

/// What a rule would target now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Preview {
    pub targets: i64,
    /// Distinct households (doors) among the targets.
    pub households: i64,
    pub contactless: i64,
}

fn ids(list: &[i64], p: &mut Vec<Value>) -> String {
    p.extend(list.iter().map(|i| Value::Int(*i)));
    vec!["?"; list.len()].join(", ")
}

/// `column` lies in one of the rule's area subtrees.
fn in_areas(column: &str, areas: &[AreaPath], p: &mut Vec<Value>) -> String {
    within(column, &Scope::of(areas.iter().cloned()), p)
}

/// Current holders (`who`: person_id or household_id) of one of `tags` inside the rule's areas:
/// the cohort's covering index answers it.
fn holders(who: &str, tags: &[i64], areas: &[AreaPath], p: &mut Vec<Value>) -> String {
    let tags = ids(tags, p);
    let inside = in_areas("ta.area_path", areas, p);
    format!(
        "SELECT ta.{who} FROM tag_assignments ta WHERE ta.tag_id IN ({tags}) \
         AND ta.ended_on IS NULL AND {inside}"
    )
}

/// Conditions on one person `m` (age, residence type).
fn person_conds(r: &ResolvedRule, m: &str, p: &mut Vec<Value>) -> Vec<String> {
    let mut conds = Vec::new();
    if let Some(d) = r.born_by {
        conds.push(format!("{m}.birth_date <= ?"));
        p.push(d.into());
    }
    if let Some(d) = r.born_after {
        conds.push(format!("{m}.birth_date > ?"));
        p.push(d.into());
    }
    if !r.residence.is_empty() {
        let marks = vec!["?"; r.residence.len()].join(", ");
        conds.push(format!("{m}.residence_type IN ({marks})"));
        p.extend(
            r.residence
                .iter()
                .map(|t| Value::Text(t.as_str().to_owned())),
        );
    }
    conds
}

/// The tag condition on person `m` of household `h`: `m` holds a person tag or `h` a household
/// tag; true without tags.
fn tag_cond(r: &ResolvedRule, m: &str, h: &str, p: &mut Vec<Value>) -> String {
    let mut any = Vec::new();
    if !r.person_tags.is_empty() {
        any.push(format!(
            "{m}.id IN ({})",
            holders("person_id", &r.person_tags, &r.areas, p)
        ));
    }
    if !r.household_tags.is_empty() {
        any.push(format!(
            "{h}.id IN ({})",
            holders("household_id", &r.household_tags, &r.areas, p)
        ));
    }
    if any.is_empty() {
        "1 = 1".to_owned()
    } else {
        format!("({})", any.join(" OR "))
    }
}

impl ResolvedRule {
    /// The targets as rows of (household_id, person_id, dwelling_id, building_id, floor, address,
    /// area_path, mode), inside `scope`. Parameters are pushed in text order. Without `places`
    /// (a count) the place columns are left empty and their joins out, unless the rule needs them.
    pub(crate) fn select(&self, scope: &Scope, places: bool, p: &mut Vec<Value>) -> String {
        let person_item = self.subject == TagSubject::Person;
        // The households with a member holding the tag, found once (an uncorrelated subquery
        // both engines materialize) rather than probed per target.
        let mode = match self.contactless_tag {
            Some(tag) => {
                p.push(Value::Int(tag));
                let inside = in_areas("cta.area_path", &self.areas, p);
                format!(
                    "CASE WHEN h.id IN (SELECT cm.household_id FROM tag_assignments cta \
                     JOIN persons cm ON cm.id = cta.person_id WHERE cta.tag_id = ? \
                     AND cta.ended_on IS NULL AND {inside}) THEN 'contactless' ELSE 'door' END"
                )
            }
            None => "'door'".to_owned(),
        };
        let (person_col, path_col, from) = if person_item {
            (
                "p.id",
                "p.area_path",
                "persons p JOIN households h ON h.id = p.household_id AND h.ended_on IS NULL",
            )
        } else {
            ("CAST(NULL AS BIGINT)", "h.area_path", "households h")
        };
        let mut conds = Vec::new();
        if !person_item {
            conds.push("h.ended_on IS NULL".to_owned());
        }
        conds.push(within(path_col, scope, p));
        let mut rule = vec![in_areas(path_col, &self.areas, p)];
        if !self.places.is_empty() {
            let mut any = Vec::new();
            for col in ["d.id", "u.id", "b.id", "b.parent_id"] {
                any.push(format!("{col} IN ({})", ids(&self.places, p)));
            }
            rule.push(format!("({})", any.join(" OR ")));
        }
        if person_item {
            rule.extend(person_conds(self, "p", p));
            rule.push(tag_cond(self, "p", "h", p));
        } else if self.born_by.is_some()
            || self.born_after.is_some()
            || !self.residence.is_empty()
            || !self.person_tags.is_empty()
        {
            let mut member = vec!["m.household_id = h.id".to_owned()];
            member.extend(person_conds(self, "m", p));
            member.push(tag_cond(self, "m", "h", p));
            rule.push(format!(
                "EXISTS (SELECT 1 FROM persons m WHERE {})",
                member.join(" AND ")
            ));
        } else if !self.household_tags.is_empty() {
            rule.push(tag_cond(self, "m", "h", p));
        }
        let rule = format!("({})", rule.join(" AND "));
        if self.include_households.is_empty() {
            conds.push(rule);
        } else {
            conds.push(format!(
                "({rule} OR h.id IN ({}))",
                ids(&self.include_households, p)
            ));
        }
        if !self.exclude_households.is_empty() {
            conds.push(format!(
                "h.id NOT IN ({})",
                ids(&self.exclude_households, p)
            ));
        }
        let (place_cols, place_joins) = if places || !self.places.is_empty() {
            (
                "d.id AS dwelling_id, u.parent_id AS building_id, d.floor AS floor, \
                 COALESCE(d.address, '') AS address",
                " LEFT JOIN places d ON d.id = h.dwelling_id LEFT JOIN places u \
                 ON u.id = d.parent_id LEFT JOIN places b ON b.id = u.parent_id",
            )
        } else {
            (
                "CAST(NULL AS BIGINT) AS dwelling_id, CAST(NULL AS BIGINT) AS building_id, \
                 CAST(NULL AS BIGINT) AS floor, '' AS address",
                "",
            )
        };
        format!(
            "SELECT h.id AS household_id, {person_col} AS person_id, {place_cols}, \
             {path_col} AS area_path, {mode} AS mode FROM {from}{place_joins} WHERE {}",
            conds.join(" AND ")
        )
    }
}

/// Active grid workers by the path of the grid they are assigned: an item's default assignee.
const GRID_WORKERS: &str = "SELECT a.path AS grid_path, MIN(u.id) AS worker_id FROM users u \
     JOIN user_areas ua ON ua.user_id = u.id JOIN areas a ON a.id = ua.area_id \
     WHERE u.role = 'grid_worker' AND u.disabled_at IS NULL AND a.level = 'grid' GROUP BY a.path";

/// `NOT EXISTS` an item of `campaign` for the target row `t`.
fn not_yet_listed(person_item: bool, campaign: i64, p: &mut Vec<Value>) -> String {
    p.push(Value::Int(campaign));
    if person_item {
        "NOT EXISTS (SELECT 1 FROM campaign_items ci WHERE ci.campaign_id = ? \
         AND ci.person_id = t.person_id)"
            .to_owned()
    } else {
        "NOT EXISTS (SELECT 1 FROM campaign_items ci WHERE ci.campaign_id = ? \
         AND ci.household_id = t.household_id AND ci.person_id IS NULL)"
            .to_owned()
    }
}

impl Store {
    /// How many targets the rule selects now, inside the scope.
    pub async fn preview_targets(
        &self,
        scope: &Scope,
        rule: &ResolvedRule,
    ) -> Result<Preview, StoreError> {
        let mut p = Vec::new();
        let select = rule.select(scope, false, &mut p);
        self.count_targets(&format!("({select}) t"), &p).await
    }

    async fn count_targets(&self, from: &str, p: &[Value]) -> Result<Preview, StoreError> {
        let sql = format!(
            "SELECT COUNT(*), COUNT(DISTINCT t.household_id), \
             COALESCE(SUM(CASE WHEN t.mode = 'contactless' THEN 1 ELSE 0 END), 0) FROM {from}"
        );
        Ok(self
            .db
            .query_opt(&sql, p, |r| {
                Ok(Preview {
                    targets: r.int(0)?,
                    households: r.int(1)?,
                    contactless: r.int(2)?,
                })
            })
            .await?
            .unwrap_or_default())
    }

    /// Targets the rule selects now that the campaign does not list yet (households that moved
    /// in, people newly tagged): shown before they are added on demand.
    pub async fn preview_newcomers(
        &self,
        scope: &Scope,
        campaign_id: i64,
        rule: &ResolvedRule,
    ) -> Result<Preview, StoreError> {
        let mut p = Vec::new();
        let select = rule.select(scope, false, &mut p);
        let absent = not_yet_listed(rule.subject == TagSubject::Person, campaign_id, &mut p);
        self.count_targets(&format!("({select}) t WHERE {absent}"), &p)
            .await
    }

    /// Launches a draft: freezes the targets as items in one transaction, each assigned to its
    /// grid's worker. Returns the number of items.
    pub async fn launch_campaign(
        &self,
        scope: &Scope,
        campaign_id: i64,
        rule: &ResolvedRule,
    ) -> Result<Result<i64, CampaignError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let c = self
            .managed_campaign_in(&mut tx, scope, campaign_id)
            .await?;
        let next = match c.state.launch() {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let n = insert_items(&mut tx, scope, campaign_id, rule, false).await?;
        let t = now();
        tx.execute(
            "UPDATE campaigns SET state = ?, target_count = ?, launched_at = ?, updated_at = ? \
             WHERE id = ?",
            &params![next.as_str(), n, t, t, campaign_id],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(n))
    }

    /// Adds the targets that entered the rule since launch; the denominator grows by as many.
    pub async fn add_newcomers(
        &self,
        scope: &Scope,
        campaign_id: i64,
        rule: &ResolvedRule,
    ) -> Result<Result<i64, CampaignError>, StoreError> {
        let mut tx = self.db.begin().await?;
        let c = self
            .managed_campaign_in(&mut tx, scope, campaign_id)
            .await?;
        if let Err(e) = c.state.may_work() {
            return Ok(Err(e));
        }
        let n = insert_items(&mut tx, scope, campaign_id, rule, true).await?;
        tx.execute(
            "UPDATE campaigns SET target_count = target_count + ?, updated_at = ? WHERE id = ?",
            &params![n, now(), campaign_id],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(n))
    }
}

async fn insert_items(
    tx: &mut crate::db::Tx,
    scope: &Scope,
    campaign_id: i64,
    rule: &ResolvedRule,
    later: bool,
) -> Result<i64, StoreError> {
    let t = now();
    let mut p: Vec<Value> = vec![
        Value::Int(campaign_id),
        Value::Int(i64::from(later)),
        t.into(),
        t.into(),
    ];
    let select = rule.select(scope, true, &mut p);
    let absent = if later {
        format!(
            " WHERE {}",
            not_yet_listed(rule.subject == TagSubject::Person, campaign_id, &mut p)
        )
    } else {
        String::new()
    };
    let n = tx
        .execute(
            &format!(
                "INSERT INTO campaign_items (campaign_id, household_id, person_id, dwelling_id, \
                 building_id, floor, address, area_path, assignee_id, mode, status, \
                 added_after_launch, created_at, updated_at) \
                 SELECT ?, t.household_id, t.person_id, t.dwelling_id, t.building_id, t.floor, \
                 t.address, t.area_path, gw.worker_id, t.mode, 'pending', ?, ?, ? \
                 FROM ({select}) t LEFT JOIN ({GRID_WORKERS}) gw ON gw.grid_path = t.area_path\
                 {absent}"
            ),
            &p,
        )
        .await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}
