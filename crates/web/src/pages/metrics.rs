//! Work-order metrics on a page: the range form and the table (per child area or category),
//! the same figures as `GET /api/v1/work-orders/metrics`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use time::OffsetDateTime;
use wangge_services::metrics::{Figures, GroupBy};

use super::{FormErrors, Page, Shell, page_error, render};
use crate::AppState;
use crate::api::work_order_metrics::metrics_query;

pub fn router() -> Router<AppState> {
    Router::new().route("/work-orders/metrics", get(metrics))
}

pub struct Row {
    pub code: String,
    pub name: String,
    pub f: Figures,
}

#[derive(Template)]
#[template(path = "metrics.html")]
struct MetricsPage {
    shell: Shell,
    area: String,
    from: String,
    to: String,
    by_category: bool,
    errors: FormErrors,
    /// What the rows are: the area's name, or "my areas".
    heading: String,
    rows: Vec<Row>,
    total: Option<Figures>,
}

#[derive(Deserialize)]
struct MetricsForm {
    area: Option<String>,
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
}

async fn metrics(State(s): State<AppState>, page: Page, Query(q): Query<MetricsForm>) -> Response {
    let t = page.t();
    let mut view = MetricsPage {
        area: q.area.clone().unwrap_or_default(),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        by_category: q.by.as_deref() == Some(GroupBy::Category.as_str()),
        errors: FormErrors::default(),
        heading: String::new(),
        rows: Vec::new(),
        total: None,
        shell: page.shell.clone(),
    };
    let report = match metrics_query(
        q.area.as_deref(),
        q.from.as_deref(),
        q.to.as_deref(),
        q.by.as_deref(),
    ) {
        Ok(query) => {
            s.registry
                .work_order_metrics(&page.scope(), &query, OffsetDateTime::now_utc())
                .await
        }
        Err(e) => Err(e),
    };
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            return match FormErrors::from_service(e, t) {
                Ok(errors) => {
                    view.errors = errors;
                    (StatusCode::UNPROCESSABLE_ENTITY, render(&view)).into_response()
                }
                Err(e) => page_error(page.shell, e),
            };
        }
    };
    view.from = report.from.to_string();
    view.to = report.to.to_string();
    view.heading = report
        .area
        .as_ref()
        .map_or_else(|| t.t("metrics.my_areas").to_owned(), |a| a.name.clone());
    view.rows = report
        .rows
        .into_iter()
        .map(|r| Row {
            code: r.code,
            name: if t.is_zh() { r.name_zh } else { r.name_en },
            f: r.figures,
        })
        .collect();
    view.total = Some(report.total);
    render(&view)
}
