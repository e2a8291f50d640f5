//! Photos on pages: reading a multipart form with photos, the thumbnails of a parent, and the
//! upload route behind the reusable `_attachments.html` partial (a work order's photos).

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Router};
use wangge_domain::Scope;
use wangge_services::attachments::Upload;
use wangge_services::{FieldError, ServiceError};
use wangge_store::StoreError;
use wangge_store::attachments::AttachmentParent;

use super::{Page, page_error};
use crate::AppState;
use crate::access::Audited;
use crate::api::attachments::receive;
use crate::error::ApiError;

pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new().route(
        "/work-orders/{id}/attachments",
        post(upload_to_work_order).layer(DefaultBodyLimit::max(upload_limit)),
    )
}

/// A thumbnail linking to its photo.
#[derive(Debug, Clone)]
pub struct Photo {
    pub id: i64,
}

/// What the `_attachments.html` partial shows: the thumbnails, and where its upload form posts
/// (none for a reader who may not add photos).
#[derive(Debug, Clone, Default)]
pub struct PhotoPanel {
    pub photos: Vec<Photo>,
    pub upload_action: Option<String>,
    pub error: Option<String>,
}

impl PhotoPanel {
    /// The photos of these parents (out-of-scope parents give none), oldest first.
    pub async fn load(
        s: &AppState,
        scope: &Scope,
        parents: &[AttachmentParent],
        upload_action: Option<String>,
    ) -> Result<PhotoPanel, StoreError> {
        let found = s.registry.store.attachments_of(scope, parents).await?;
        Ok(PhotoPanel {
            photos: found.into_iter().map(|a| Photo { id: a.id }).collect(),
            upload_action,
            error: None,
        })
    }
}

/// A page form's text fields and photos, from a multipart body or (without photos) a plain
/// urlencoded one.
pub struct PageForm {
    pub fields: Vec<(String, String)>,
    pub photos: Vec<Upload>,
}

impl PageForm {
    pub fn get(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    pub async fn read(s: &AppState, req: Request) -> Result<PageForm, ServiceError> {
        let multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            let bytes = axum::body::Bytes::from_request(req, s)
                .await
                .map_err(|_| too_large())?;
            let fields = serde_urlencoded::from_bytes(&bytes).map_err(|_| unreadable())?;
            return Ok(PageForm {
                fields,
                photos: Vec::new(),
            });
        }
        let mp = Multipart::from_request(req, s)
            .await
            .map_err(|_| unreadable())?;
        let got = receive(mp, crate::PHOTOS_PER_FORM)
            .await
            .map_err(|e| match e {
                ApiError::Service(e) => e,
                ApiError::PayloadTooLarge => too_large(),
                _ => unreadable(),
            })?;
        let mut fields = got.fields;
        if let Some(event) = got.event_id {
            fields.push(("event_id".into(), event.to_string()));
        }
        Ok(PageForm {
            fields,
            photos: got.files,
        })
    }
}

fn too_large() -> ServiceError {
    ServiceError::invalid(FieldError::new(
        "file",
        "attachment.too_large",
        format!("照片太大或太多（一次最多 {} 张）", crate::PHOTOS_PER_FORM),
        format!(
            "The photos are too large or too many (at most {} at a time)",
            crate::PHOTOS_PER_FORM
        ),
    ))
}

fn unreadable() -> ServiceError {
    ServiceError::invalid(FieldError::new(
        "file",
        "body.multipart",
        "无法读取上传的表单",
        "The uploaded form could not be read",
    ))
}

pub fn unavailable() -> ServiceError {
    ServiceError::invalid(FieldError::new(
        "file",
        "attachment.unavailable",
        "此服务器未配置附件存储",
        "This server has no attachment storage configured",
    ))
}

/// Adds photos to a work order (or, with `event_id`, to one of its timeline entries) from the
/// partial's form, then returns to the work order's page.
async fn upload_to_work_order(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let Some(caller) = page.caller.clone() else {
        return super::to_login(false);
    };
    let scope = page.scope();
    let result = async {
        let form = PageForm::read(&s, req).await?;
        let attachments = s.attachments.as_ref().ok_or_else(unavailable)?;
        let store = &s.registry.store;
        let timeline = store.work_order_timeline(&scope, id).await?;
        store.work_order(&scope, id).await?;
        let parent = match form.get("event_id").trim() {
            "" => AttachmentParent::WorkOrder(id),
            e => match e.parse::<i64>() {
                Ok(e) if timeline.iter().any(|t| t.id == e) => AttachmentParent::WorkOrderEvent(e),
                _ => {
                    return Err(ServiceError::invalid(FieldError::unknown_reference(
                        "event_id",
                    )));
                }
            },
        };
        if form.photos.is_empty() {
            return Err(ServiceError::invalid(FieldError::required("file")));
        }
        let mut prepared = Vec::new();
        for photo in form.photos {
            prepared.push(attachments.prepare(photo).await?);
        }
        let mut last = None;
        for p in prepared {
            let who = (Some(caller.user_id), caller.username.as_str());
            last = Some(attachments.attach(&scope, who, parent, p).await?);
        }
        Ok::<_, ServiceError>(last)
    }
    .await;
    match result {
        Ok(last) => {
            let audited = Audited {
                action: Some("attachment.upload"),
                object_type: Some("work_order"),
                object_id: Some(id),
                area_path: last.map(|a| a.area_path.as_str().to_owned()),
                reason: None,
            };
            (
                Extension(audited),
                Redirect::to(&format!("/work-orders/{id}")),
            )
                .into_response()
        }
        Err(e) => page_error(page.shell, e),
    }
}

#[cfg(test)]
mod tests {
    use askama::Template;
    use axum::http::HeaderMap;

    use super::{Photo, PhotoPanel};
    use crate::pages::{Page, Shell};

    /// The partial as a page that includes it sees it.
    #[derive(Template)]
    #[template(source = r#"{% include "_attachments.html" %}"#, ext = "html")]
    struct Including {
        shell: Shell,
        photo_panel: PhotoPanel,
    }

    #[test]
    fn the_partial_shows_thumbnails_and_a_camera_form() {
        let shell = Page::shell_for(&HeaderMap::new(), None, "/work-orders/7");
        let photo_panel = PhotoPanel {
            photos: vec![Photo { id: 5 }, Photo { id: 6 }],
            upload_action: Some("/work-orders/7/attachments".into()),
            error: None,
        };
        let html = Including { shell, photo_panel }.render().unwrap();
        assert!(html.contains(
            r#"<a href="/api/v1/attachments/6"><img src="/api/v1/attachments/6/thumbnail""#
        ));
        assert!(html.contains(r#"enctype="multipart/form-data""#));
        assert!(html.contains(r#"capture="environment""#));
        assert!(html.contains("attachments") && html.contains("keep_location"));
        // The guard reads the CSRF field of a multipart body; it comes before the photos.
        assert!(html.find("csrf_token").unwrap() < html.find(r#"type="file""#).unwrap());

        let reader = Including {
            shell: Page::shell_for(&HeaderMap::new(), None, "/work-orders/7"),
            photo_panel: PhotoPanel::default(),
        }
        .render()
        .unwrap();
        assert!(
            !reader.contains("<form"),
            "no upload form without an action"
        );
    }
}
