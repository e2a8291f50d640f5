//! Work-order handling metrics per child area or per category over a date range, inside the
//! caller's scope (figures as they stand now).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_domain::AreaCode;
use wangge_services::metrics::{
    Figures, GroupBy, MetricsQuery, MetricsReport, MetricsRow, default_range,
};
use wangge_services::{Clock, FieldError, ServiceError};

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiQuery, CallerScope};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(work_order_metrics))
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct FiguresOut {
    /// Orders reported in the range.
    pub reported: u32,
    /// Resolved or closed within the allowance.
    pub handled_on_time: u32,
    /// Resolved or closed after the deadline.
    pub handled_overdue: u32,
    /// Reopenings.
    pub rework: u32,
    /// Approved extensions.
    pub extensions: u32,
    /// Orders ever suspended with approval (挂账).
    pub suspended: u32,
    /// Open and past the deadline now.
    pub overdue_and_open: u32,
}

impl From<Figures> for FiguresOut {
    fn from(f: Figures) -> Self {
        FiguresOut {
            reported: f.reported,
            handled_on_time: f.handled_on_time,
            handled_overdue: f.handled_overdue,
            rework: f.rework,
            extensions: f.extensions,
            suspended: f.suspended,
            overdue_and_open: f.overdue_and_open,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsRowOut {
    /// Area code (by=area) or category code (by=category).
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(flatten)]
    pub figures: FiguresOut,
}

impl From<MetricsRow> for MetricsRowOut {
    fn from(r: MetricsRow) -> Self {
        MetricsRowOut {
            code: r.code,
            name_zh: r.name_zh,
            name_en: r.name_en,
            figures: r.figures.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsOut {
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    /// area or category.
    pub by: String,
    /// The area whose children the rows are (absent: the caller's own areas).
    pub area: Option<String>,
    pub rows: Vec<MetricsRowOut>,
    pub total: FiguresOut,
}

impl From<MetricsReport> for MetricsOut {
    fn from(r: MetricsReport) -> Self {
        MetricsOut {
            from: r.from,
            to: r.to,
            as_of: r.as_of,
            by: r.by.as_str().to_owned(),
            area: r.area.map(|a| a.code.as_str().to_owned()),
            rows: r.rows.into_iter().map(MetricsRowOut::from).collect(),
            total: r.total.into(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MetricsParams {
    /// Area code: rows are its children (default: the caller's areas).
    pub area: Option<String>,
    /// First day (YYYY-MM-DD, Beijing time); default 29 days before `to`.
    pub from: Option<String>,
    /// Last day, included; default today.
    pub to: Option<String>,
    /// area (default) or category.
    pub by: Option<String>,
}

/// A `YYYY-MM-DD` parameter; the error names the field, not the value.
fn parse_day(errors: &mut Vec<FieldError>, field: &str, raw: Option<&str>) -> Option<Date> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    match Date::parse(raw, format_description!("[year]-[month]-[day]")) {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                "date.invalid",
                "日期格式须为 YYYY-MM-DD",
                "Dates are written YYYY-MM-DD",
            ));
            None
        }
    }
}

/// The query a request (API or page) asks, every field error collected. Absent dates give
/// the 30 days up to today.
pub fn metrics_query(
    area: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    by: Option<&str>,
) -> Result<MetricsQuery, ServiceError> {
    let mut errors = Vec::new();
    let area = match area.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => AreaCode::parse(raw)
            .map_err(|e| errors.push(FieldError::from_domain("area", &e)))
            .ok(),
    };
    let from = parse_day(&mut errors, "from", from);
    let to = parse_day(&mut errors, "to", to);
    let by = match by.map(str::trim).filter(|s| !s.is_empty()) {
        None => GroupBy::Area,
        Some(raw) => GroupBy::parse(raw).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "by",
                "metrics.by",
                "分组方式须为 area 或 category",
                "by must be area or category",
            ));
            GroupBy::Area
        }),
    };
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let to = to.unwrap_or_else(|| Clock::System.today());
    let from = from.unwrap_or_else(|| default_range(to).0);
    Ok(MetricsQuery { area, from, to, by })
}

#[utoipa::path(get, path = "/work-orders/metrics", tag = "work_orders", params(MetricsParams),
    responses((status = 200, body = MetricsOut), (status = 422, body = Problem)))]
async fn work_order_metrics(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    ApiQuery(q): ApiQuery<MetricsParams>,
) -> ApiResult<Json<MetricsOut>> {
    let query = metrics_query(
        q.area.as_deref(),
        q.from.as_deref(),
        q.to.as_deref(),
        q.by.as_deref(),
    )?;
    let report = s
        .registry
        .work_order_metrics(&scope, &query, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(report.into()))
}
