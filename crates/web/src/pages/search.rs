//! The search box on every page: names (Chinese, pinyin, initials), phone tails, full phone or
//! ID numbers, and address fragments, inside the caller's scope. A POST, so numbers never sit in
//! URLs; the same search answers the as-you-type suggestions.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;
use wangge_services::ServiceError;
use wangge_store::persons::Person;
use wangge_store::places::Place;

use super::{Page, Shell, page_error, render};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/search", post(search))
        .route("/search/suggest", post(suggest))
}

#[derive(Deserialize)]
struct SearchForm {
    #[serde(default)]
    q: String,
}

struct Found {
    persons: Vec<Person>,
    matched: String,
    places: Vec<Place>,
    problem: Option<String>,
}

async fn find(s: &AppState, page: &Page, q: &str, limit: u32) -> Result<Found, ServiceError> {
    let t = page.t();
    let scope = page.scope();
    let q = q.trim();
    let mut found = Found {
        persons: Vec::new(),
        matched: String::new(),
        places: Vec::new(),
        problem: None,
    };
    if q.is_empty() {
        return Ok(found);
    }
    match s.registry.search_persons(&scope, q, limit).await {
        Ok(r) => {
            found.matched = t
                .t(&format!("search.matched_{}", r.kind.as_str()))
                .to_owned();
            found.persons = r.persons;
        }
        Err(ServiceError::Invalid(errors)) => {
            found.problem = errors.first().map(|e| {
                if t.is_zh() {
                    e.message_zh.clone()
                } else {
                    e.message_en.clone()
                }
            });
        }
        Err(e) => return Err(e),
    }
    // Addresses are searched for anything that is not a number.
    if !q.chars().any(|c| c.is_ascii_digit()) || !q.is_ascii() {
        found.places = s
            .registry
            .store
            .search_places(&scope, q, i64::from(limit))
            .await?;
    }
    Ok(found)
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    shell: Shell,
    persons: Vec<Person>,
    matched: String,
    places: Vec<Place>,
    problem: Option<String>,
}

async fn search(State(s): State<AppState>, page: Page, Form(f): Form<SearchForm>) -> Response {
    match find(&s, &page, &f.q, 50).await {
        Ok(found) => {
            let mut shell = page.shell;
            shell.q = f.q.trim().chars().take(40).collect();
            render(&SearchPage {
                shell,
                persons: found.persons,
                matched: found.matched,
                places: found.places,
                problem: found.problem,
            })
        }
        Err(e) => page_error(page.shell, e),
    }
}

#[derive(Template)]
#[template(path = "suggest.html")]
struct Suggest {
    persons: Vec<Person>,
    places: Vec<Place>,
}

async fn suggest(State(s): State<AppState>, page: Page, Form(f): Form<SearchForm>) -> Response {
    match find(&s, &page, &f.q, 6).await {
        Ok(found) => render(&Suggest {
            persons: found.persons,
            places: found.places,
        }),
        Err(e) => page_error(page.shell, e),
    }
}
