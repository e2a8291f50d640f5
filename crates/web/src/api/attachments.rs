//! Photo attachments: upload to a visit or a work order (or one of its timeline entries) as
//! multipart/form-data, list them, and fetch the photo or its thumbnail. Every read checks the
//! parent's scope; out of scope answers 404 like a missing attachment.

use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wangge_services::FieldError;
use wangge_services::attachments::{Attachments, Upload, Variant};
use wangge_store::attachments::{Attachment, AttachmentParent};

use crate::AppState;
use crate::access::Audited;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{CallerScope, CurrentCaller};

/// Room for the multipart framing and the small fields around one photo.
pub const MULTIPART_MARGIN: usize = 64 * 1024;

/// Upload routes take a photo-sized body (the global limit is for JSON); the rest are reads.
pub fn router(upload_body_limit: usize) -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(upload_to_visit, visit_attachments))
        .routes(routes!(upload_to_work_order, work_order_attachments))
        .layer(DefaultBodyLimit::max(upload_body_limit));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(get_attachment))
        .routes(routes!(get_thumbnail))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentOut {
    pub id: i64,
    /// visit, work_order or work_order_event (a timeline entry).
    pub parent_kind: String,
    pub parent_id: i64,
    pub content_type: String,
    pub byte_size: i64,
    pub width: u32,
    pub height: u32,
    /// The uploader chose to keep the photo's location metadata.
    pub kept_location: bool,
    pub uploaded_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub url: String,
    pub thumbnail_url: String,
}

impl From<Attachment> for AttachmentOut {
    fn from(a: Attachment) -> Self {
        AttachmentOut {
            url: format!("/api/v1/attachments/{}", a.id),
            thumbnail_url: format!("/api/v1/attachments/{}/thumbnail", a.id),
            id: a.id,
            parent_kind: a.parent.kind().to_owned(),
            parent_id: a.parent.id(),
            content_type: a.content_type,
            byte_size: a.byte_size,
            width: a.width,
            height: a.height,
            kept_location: a.kept_location,
            uploaded_by: a.uploaded_by,
            created_at: a.created_at,
        }
    }
}

/// The multipart form of an upload (described for the API document).
#[derive(ToSchema)]
#[allow(dead_code)] // only describes the form in the API document
pub struct UploadForm {
    /// The photo: JPEG, PNG or WebP, at most 10 MiB by default and 50 megapixels.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `true` keeps the photo's location metadata; by default it is removed.
    keep_location: Option<bool>,
    /// Work orders only: attach to this timeline entry of the order instead of the order.
    event_id: Option<i64>,
}

/// What a multipart upload carried.
pub(crate) struct Received {
    pub files: Vec<Upload>,
    pub event_id: Option<i64>,
    /// Other text fields (page forms send their own fields alongside the photos).
    pub fields: Vec<(String, String)>,
}

pub(crate) fn attachments_of(s: &AppState) -> Result<&Attachments, ApiError> {
    s.attachments.as_ref().ok_or_else(|| ApiError::Denied {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "attachment.unavailable",
        zh: "此服务器未配置附件存储".into(),
        en: "This server has no attachment storage configured".into(),
    })
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::bad_request(
            "body.multipart",
            "无法读取上传的表单",
            "The uploaded form could not be read",
        )
    }
}

pub(crate) fn not_multipart(_: MultipartRejection) -> ApiError {
    ApiError::bad_request(
        "body.multipart",
        "请求内容必须是 multipart/form-data",
        "Request body must be multipart/form-data",
    )
}

fn flag(field: &str, v: &str) -> Result<bool, FieldError> {
    match v.trim() {
        "true" | "1" | "on" => Ok(true),
        "false" | "0" | "" => Ok(false),
        _ => Err(FieldError::new(
            field,
            "boolean.invalid",
            "须为 true 或 false",
            "Must be true or false",
        )),
    }
}

async fn text(field: Field<'_>) -> Result<String, ApiError> {
    field.text().await.map_err(multipart_error)
}

/// Reads every part: `file` parts (at most `max_files`; empty file inputs from pages are
/// skipped), `keep_location`, `event_id`; other small fields are handed back as text.
pub(crate) async fn receive(mut mp: Multipart, max_files: usize) -> Result<Received, ApiError> {
    let mut got = Received {
        files: Vec::new(),
        event_id: None,
        fields: Vec::new(),
    };
    let mut keep_location = false;
    let mut photos = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" | "photos" => {
                let declared = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(multipart_error)?;
                if bytes.is_empty() && name == "photos" {
                    continue;
                }
                if photos.len() == max_files {
                    return Err(FieldError::new(
                        &name,
                        "attachment.too_many",
                        format!("一次最多上传 {max_files} 张照片"),
                        format!("At most {max_files} photos at a time"),
                    )
                    .into());
                }
                photos.push((bytes.to_vec(), declared));
            }
            "keep_location" => keep_location = flag("keep_location", &text(field).await?)?,
            "event_id" => {
                let v = text(field).await?;
                got.event_id = Some(v.trim().parse().map_err(|_| {
                    FieldError::new(
                        "event_id",
                        "integer.invalid",
                        "须为整数",
                        "Must be an integer",
                    )
                })?);
            }
            _ => {
                let v = text(field).await?;
                got.fields.push((name, v));
            }
        }
    }
    got.files = photos
        .into_iter()
        .map(|(bytes, declared_type)| Upload {
            bytes,
            declared_type,
            keep_location,
        })
        .collect();
    Ok(got)
}

/// The one photo an API upload carries, with no stray fields.
pub(crate) fn single(got: Received) -> Result<Upload, ApiError> {
    if let Some((name, _)) = got.fields.iter().find(|(n, _)| n != "csrf_token") {
        return Err(FieldError::new(name, "field.unknown", "未知字段", "Unknown field").into());
    }
    got.files
        .into_iter()
        .next()
        .ok_or_else(|| FieldError::required("file").into())
}

pub(crate) fn uploaded(a: Attachment) -> (StatusCode, Extension<Audited>, Json<AttachmentOut>) {
    let audited = Extension(Audited {
        action: Some("attachment.upload"),
        object_type: Some("attachment"),
        object_id: Some(a.id),
        area_path: Some(a.area_path.as_str().to_owned()),
        reason: None,
    });
    (StatusCode::CREATED, audited, Json(a.into()))
}

/// Add a photo to a visit.
#[utoipa::path(post, path = "/visits/{id}/attachments", tag = "attachments",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentOut), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn upload_to_visit(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Extension<Audited>, Json<AttachmentOut>)> {
    let attachments = attachments_of(&s)?;
    let got = receive(mp.map_err(not_multipart)?, 1).await?;
    if got.event_id.is_some() {
        return Err(FieldError::new(
            "event_id",
            "field.unknown",
            "走访没有时间线",
            "Visits have no timeline entries",
        )
        .into());
    }
    let upload = single(got)?;
    let who = (Some(caller.user_id), caller.username.as_str());
    let a = attachments
        .upload(&scope, who, AttachmentParent::Visit(id), upload)
        .await?;
    Ok(uploaded(a))
}

/// Add a photo to a work order, or with `event_id` to one of its timeline entries.
#[utoipa::path(post, path = "/work-orders/{id}/attachments", tag = "attachments",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentOut), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn upload_to_work_order(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    CurrentCaller(caller): CurrentCaller,
    Path(id): Path<i64>,
    mp: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Extension<Audited>, Json<AttachmentOut>)> {
    let attachments = attachments_of(&s)?;
    let got = receive(mp.map_err(not_multipart)?, 1).await?;
    let parent = match got.event_id {
        None => AttachmentParent::WorkOrder(id),
        Some(event) => {
            // The entry must belong to this order (and the order be in scope).
            let timeline = s.registry.store.work_order_timeline(&scope, id).await?;
            if !timeline.iter().any(|e| e.id == event) {
                s.registry.store.work_order(&scope, id).await?;
                return Err(FieldError::unknown_reference("event_id").into());
            }
            AttachmentParent::WorkOrderEvent(event)
        }
    };
    let upload = single(got)?;
    let who = (Some(caller.user_id), caller.username.as_str());
    let a = attachments.upload(&scope, who, parent, upload).await?;
    Ok(uploaded(a))
}

/// The photos of a visit, oldest first.
#[utoipa::path(get, path = "/visits/{id}/attachments", tag = "attachments",
    responses((status = 200, body = Vec<AttachmentOut>), (status = 404, body = Problem)))]
async fn visit_attachments(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<AttachmentOut>>> {
    let store = &s.registry.store;
    store.visit(&scope, id).await?;
    let found = store
        .attachments_of(&scope, &[AttachmentParent::Visit(id)])
        .await?;
    Ok(Json(found.into_iter().map(AttachmentOut::from).collect()))
}

/// The photos of a work order and of its timeline entries, oldest first.
#[utoipa::path(get, path = "/work-orders/{id}/attachments", tag = "attachments",
    responses((status = 200, body = Vec<AttachmentOut>), (status = 404, body = Problem)))]
async fn work_order_attachments(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<AttachmentOut>>> {
    let store = &s.registry.store;
    store.work_order(&scope, id).await?;
    let mut parents = vec![AttachmentParent::WorkOrder(id)];
    parents.extend(
        store
            .work_order_timeline(&scope, id)
            .await?
            .into_iter()
            .map(|e| AttachmentParent::WorkOrderEvent(e.id)),
    );
    let found = store.attachments_of(&scope, &parents).await?;
    Ok(Json(found.into_iter().map(AttachmentOut::from).collect()))
}

pub(crate) fn serve_file(a: &Attachment, variant: Variant, bytes: Vec<u8>) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(Attachments::content_type(a, variant)),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    // Only the signed-in browser may keep it; shared caches never.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    resp
}

async fn read(
    s: &AppState,
    scope: &wangge_domain::Scope,
    id: i64,
    v: Variant,
) -> ApiResult<(Attachment, Vec<u8>)> {
    Ok(attachments_of(s)?.read(scope, id, v).await?)
}

/// The photo, as stored (metadata stripped unless the uploader kept the location).
#[utoipa::path(get, path = "/attachments/{id}", tag = "attachments",
    responses((status = 200, description = "The photo (image/jpeg, image/png or image/webp)"),
        (status = 404, body = Problem)))]
async fn get_attachment(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<(Extension<Audited>, Response)> {
    let (a, bytes) = read(&s, &scope, id, Variant::Original).await?;
    let audited = Extension(Audited {
        action: Some("attachment.read"),
        object_type: Some("attachment"),
        object_id: Some(a.id),
        area_path: Some(a.area_path.as_str().to_owned()),
        reason: None,
    });
    Ok((audited, serve_file(&a, Variant::Original, bytes)))
}

/// The thumbnail: JPEG, longest side 320 px, no metadata.
#[utoipa::path(get, path = "/attachments/{id}/thumbnail", tag = "attachments",
    responses((status = 200, description = "The thumbnail (image/jpeg)", content_type = "image/jpeg"),
        (status = 404, body = Problem)))]
async fn get_thumbnail(
    State(s): State<AppState>,
    CallerScope(scope): CallerScope,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let (a, bytes) = read(&s, &scope, id, Variant::Thumbnail).await?;
    Ok(serve_file(&a, Variant::Thumbnail, bytes))
}
