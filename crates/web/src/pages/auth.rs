//! Sign-in, sign-out, password change and the language switch.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use wangge_services::identity::AuthError;

use super::{FormErrors, LANG_COOKIE, Page, Shell, render, to_login};
use crate::AppState;
use crate::access::client_addr_of;
use crate::api::session::{clear_cookie, session_cookie};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/password", get(password_form).post(change_password))
        .route("/lang/{code}", get(switch_lang))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    username: String,
    message: Option<String>,
}

#[derive(Deserialize)]
struct LoginQuery {
    expired: Option<u8>,
}

async fn login_form(page: Page, Query(q): Query<LoginQuery>) -> Response {
    if page.caller.is_some() {
        return Redirect::to("/").into_response();
    }
    let t = page.t();
    render(&LoginPage {
        message: q.expired.map(|_| t.t("login.expired").to_owned()),
        shell: page.shell,
        username: String::new(),
    })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login(State(s): State<AppState>, page: Page, req: axum::extract::Request) -> Response {
    let t = page.t();
    let client = client_addr_of(&req);
    let headers = req.headers().clone();
    let Ok(Form(form)) =
        <Form<LoginForm> as axum::extract::FromRequest<AppState>>::from_request(req, &s).await
    else {
        return render(&LoginPage {
            shell: page.shell,
            username: String::new(),
            message: Some(t.t("login.invalid").to_owned()),
        });
    };
    let message = if !s.login_limiter.allow(client) {
        t.t("login.rate_limited").to_owned()
    } else {
        match s
            .identity
            .sign_in(
                &form.username,
                &form.password,
                client.map(|c| c.to_string()).as_deref(),
            )
            .await
        {
            Ok(signed) => {
                let mut resp = Redirect::to("/").into_response();
                resp.headers_mut()
                    .insert(header::SET_COOKIE, session_cookie(&headers, &signed.token));
                return resp;
            }
            Err(AuthError::InvalidCredentials) => t.t("login.invalid").to_owned(),
            Err(AuthError::Locked { until }) => {
                let minutes =
                    ((until - time::OffsetDateTime::now_utc()).whole_minutes() + 1).max(1);
                t.tf("login.locked", &[&minutes])
            }
            Err(AuthError::Store(e)) => return super::page_error(page.shell, e),
        }
    };
    let mut resp = render(&LoginPage {
        shell: page.shell,
        username: form.username.trim().chars().take(32).collect(),
        message: Some(message),
    });
    *resp.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    resp
}

async fn logout(State(s): State<AppState>, page: Page) -> Response {
    if let Some(c) = &page.caller {
        let _ = s.identity.sign_out(c).await;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie());
    resp
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    shell: Shell,
    errors: FormErrors,
}

async fn password_form(page: Page) -> Response {
    render(&PasswordPage {
        shell: page.shell,
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    old_password: String,
    new_password: String,
}

async fn change_password(
    State(s): State<AppState>,
    page: Page,
    Form(f): Form<PasswordForm>,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return to_login(false);
    };
    match s
        .identity
        .change_password(&caller, &f.old_password, &f.new_password)
        .await
    {
        Ok(()) => {
            let mut resp = Redirect::to("/login").into_response();
            resp.headers_mut()
                .insert(header::SET_COOKIE, clear_cookie());
            resp
        }
        Err(e) => match FormErrors::from_service(e, page.t()) {
            Ok(errors) => render(&PasswordPage {
                shell: page.shell,
                errors,
            }),
            Err(e) => super::page_error(page.shell, e),
        },
    }
}

#[derive(Deserialize)]
struct Back {
    back: Option<String>,
}

/// Remembers the language in a cookie and returns to the page (only to a local path).
async fn switch_lang(Path(code): Path<String>, Query(b): Query<Back>) -> Response {
    let lang = if code == "en" { "en" } else { "zh-CN" };
    let back = super::local_path(b.back);
    let mut resp = Redirect::to(&back).into_response();
    let cookie = format!("{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax");
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("ASCII cookie"),
    );
    resp
}
