//! Work-order handling metrics (STANDARDS.md "Work orders"): on-time handled, overdue handled,
//! rework, extensions, suspended, overdue-and-open — per child area or per category, for the
//! orders reported in a date range, as they stand at the time asked (normally now). Each
//! order's figures are the domain's [`wangge_domain::OrderMetrics`]; this module only groups and
//! adds them up, inside the caller's scope.

use std::collections::BTreeMap;

use time::{Date, Duration, OffsetDateTime, Time, UtcOffset};
use wangge_domain::{AreaCode, AreaLevel, Scope};
use wangge_store::areas::{Area, AreaFilter};
use wangge_store::page::PageRequest;
use wangge_store::work_order_metrics::MetricsOrder;

use crate::error::reference;
use crate::{FieldError, Registry, Result, ServiceError};

/// The longest range one report covers.
pub const MAX_RANGE_DAYS: i64 = 366;

const BEIJING: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// The children of the area asked about (or the caller's own areas).
    Area,
    Category,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        match s.trim() {
            "area" => Some(Self::Area),
            "category" => Some(Self::Category),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Area => "area",
            Self::Category => "category",
        }
    }
}

#[derive(Debug, Clone)]
pub struct MetricsQuery {
    pub area: Option<AreaCode>,
    /// First day, Beijing time.
    pub from: Date,
    /// Last day, included.
    pub to: Date,
    pub by: GroupBy,
}

/// Sums over a group of orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub reported: u32,
    pub handled_on_time: u32,
    pub handled_overdue: u32,
    /// Reopenings, summed.
    pub rework: u32,
    /// Approved extensions, summed.
    pub extensions: u32,
    /// Orders ever suspended with approval.
    pub suspended: u32,
    pub overdue_and_open: u32,
}

impl Figures {
    fn add(&mut self, o: &MetricsOrder, at: OffsetDateTime) {
        let m = o.order.metrics(at);
        self.reported += 1;
        self.handled_on_time += u32::from(m.handled_on_time);
        self.handled_overdue += u32::from(m.handled_overdue);
        self.rework += m.rework;
        self.extensions += m.extensions;
        self.suspended += u32::from(m.suspended);
        self.overdue_and_open += u32::from(m.overdue_and_open);
    }
}

#[derive(Debug, Clone)]
pub struct MetricsRow {
    /// The area code or the category code.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub figures: Figures,
}

#[derive(Debug, Clone)]
pub struct MetricsReport {
    pub from: Date,
    pub to: Date,
    pub as_of: OffsetDateTime,
    pub by: GroupBy,
    /// The area the rows divide (None: the caller's areas).
    pub area: Option<Area>,
    pub rows: Vec<MetricsRow>,
    pub total: Figures,
}

fn day_start(d: Date) -> OffsetDateTime {
    d.with_time(Time::MIDNIGHT).assume_offset(BEIJING)
}

impl Registry {
    /// The metrics for `q` as of `at`.
    pub async fn work_order_metrics(
        &self,
        scope: &Scope,
        q: &MetricsQuery,
        at: OffsetDateTime,
    ) -> Result<MetricsReport> {
        if q.from > q.to {
            return Err(ServiceError::invalid(FieldError::new(
                "from",
                "metrics.range_order",
                "开始日期须不晚于结束日期",
                "from must not be after to",
            )));
        }
        if (q.to - q.from).whole_days() >= MAX_RANGE_DAYS {
            return Err(ServiceError::invalid(FieldError::new(
                "to",
                "metrics.range_too_long",
                format!("统计区间最长 {MAX_RANGE_DAYS} 天"),
                format!("A report covers at most {MAX_RANGE_DAYS} days"),
            )));
        }
        let area = match &q.area {
            Some(code) => Some(reference(
                "area",
                self.store.area_by_code(scope, code).await,
            )?),
            None => None,
        };
        // Orders inside the scope and under the area asked about.
        let narrowed = area
            .as_ref()
            .map_or_else(|| scope.clone(), |a| scope.narrow_to(&a.path));
        let orders = self
            .store
            .work_orders_reported_between(
                &narrowed,
                day_start(q.from),
                day_start(q.to) + Duration::days(1),
            )
            .await?;
        let mut total = Figures::default();
        for o in &orders {
            total.add(o, at);
        }
        let rows = match q.by {
            GroupBy::Area => self.by_area(scope, area.as_ref(), &orders, at).await?,
            GroupBy::Category => self.by_category(&orders, at).await?,
        };
        Ok(MetricsReport {
            from: q.from,
            to: q.to,
            as_of: at,
            by: q.by,
            area,
            rows,
            total,
        })
    }

    /// One row per child of `area` that the scope reaches (the grid itself for a grid), or
    /// per area of the caller's scope; every such area is listed, with zeros if it had none.
    async fn by_area(
        &self,
        scope: &Scope,
        area: Option<&Area>,
        orders: &[MetricsOrder],
        at: OffsetDateTime,
    ) -> Result<Vec<MetricsRow>> {
        let groups: Vec<Area> = match area {
            Some(a) if a.level == AreaLevel::Grid => vec![a.clone()],
            Some(a) => self.children(scope, a.id).await?,
            None => {
                let roots = if scope.is_everything() {
                    self.store.root_paths().await?
                } else {
                    scope.roots().to_vec()
                };
                let mut areas = Vec::new();
                for root in roots {
                    areas.push(self.store.area(scope, root.last_id()).await?);
                }
                areas
            }
        };
        let groups: Vec<Area> = groups
            .into_iter()
            .filter(|g| scope.contains(&g.path) || scope.sees_ancestor(&g.path))
            .collect();
        let mut figures = vec![Figures::default(); groups.len()];
        for o in orders {
            if let Some(i) = groups.iter().position(|g| o.area_path.is_within(&g.path)) {
                figures[i].add(o, at);
            }
        }
        Ok(groups
            .into_iter()
            .zip(figures)
            .map(|(g, figures)| MetricsRow {
                code: g.code.as_str().to_owned(),
                name_zh: g.name.clone(),
                name_en: g.name,
                figures,
            })
            .collect())
    }

    /// The children of `parent` the caller sees, in code order.
    async fn children(&self, scope: &Scope, parent: i64) -> Result<Vec<Area>> {
        let filter = AreaFilter {
            parent_id: Some(parent),
            ..Default::default()
        };
        let mut page = PageRequest {
            after: None,
            limit: 500,
        };
        let mut all = Vec::new();
        loop {
            let p = self.store.areas(scope, &filter, &page).await?;
            all.extend(p.items);
            match p.next {
                Some(c) => page.after = Some(c),
                None => break,
            }
        }
        all.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
        Ok(all)
    }

    /// One row per category that had orders, in catalogue order.
    async fn by_category(
        &self,
        orders: &[MetricsOrder],
        at: OffsetDateTime,
    ) -> Result<Vec<MetricsRow>> {
        let mut by: BTreeMap<i64, Figures> = BTreeMap::new();
        for o in orders {
            by.entry(o.category_id).or_default().add(o, at);
        }
        let categories = self.store.work_order_categories().await?;
        Ok(categories
            .into_iter()
            .filter_map(|c| {
                by.get(&c.id).map(|f| MetricsRow {
                    code: c.code,
                    name_zh: c.name_zh,
                    name_en: c.name_en,
                    figures: *f,
                })
            })
            .collect())
    }
}

/// The default range: the 30 days up to `today`.
pub fn default_range(today: Date) -> (Date, Date) {
    (today - Duration::days(29), today)
}
