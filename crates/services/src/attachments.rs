//! Photo attachments: checked and stripped by `wangge-media`, written to disk under random names
//! (temp file, fsync, rename), then recorded. A row is only ever inserted for files already in
//! place, and the files are removed again if the insert fails, so no row points at nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::RngCore;
use wangge_domain::Scope;
use wangge_media::{Limits, MediaError, MediaType, Processed};
use wangge_store::attachments::{Attachment, AttachmentParent, NewAttachment};
use wangge_store::{Store, StoreError};

use crate::{FieldError, Result, ServiceError};

/// Where attachment files go and how large they may be.
#[derive(Debug, Clone)]
pub struct AttachmentSettings {
    pub dir: PathBuf,
    pub limits: Limits,
}

impl AttachmentSettings {
    /// `<data_dir>/attachments`, default limits.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        AttachmentSettings {
            dir: data_dir.join("attachments"),
            limits: Limits::default(),
        }
    }
}

/// An upload as received: the bytes, the type the client claimed, and whether the uploader
/// asked to keep the photo's location.
#[derive(Debug, Clone)]
pub struct Upload {
    pub bytes: Vec<u8>,
    pub declared_type: Option<String>,
    pub keep_location: bool,
}

/// A photo that passed every check, not yet stored.
#[derive(Debug, Clone)]
pub struct Prepared(Processed);

/// Which file of an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail,
}

#[derive(Clone)]
pub struct Attachments {
    store: Store,
    dir: Arc<PathBuf>,
    limits: Limits,
}

/// The refusal as a problem with the `file` field, in both languages; never echoes content.
pub fn media_field_error(e: &MediaError) -> FieldError {
    let (zh, en) = match e {
        MediaError::Empty => ("文件为空".to_owned(), "The file is empty".to_owned()),
        MediaError::TooLarge { limit } => {
            let mb = limit.div_ceil(1024 * 1024);
            (
                format!("照片不能超过 {mb} MB"),
                format!("A photo can be at most {mb} MB"),
            )
        }
        MediaError::UnsupportedType => (
            "只接受 JPEG、PNG 或 WebP 格式的照片".to_owned(),
            "Only JPEG, PNG and WebP photos are accepted".to_owned(),
        ),
        MediaError::TypeMismatch { actual, .. } => (
            format!("文件内容（{actual}）与声明的类型不符"),
            format!("The file is {actual}, not the type it was sent as"),
        ),
        MediaError::TooManyPixels { limit } => {
            let mp = limit / 1_000_000;
            (
                format!("照片像素过多（上限 {mp} 百万像素）"),
                format!("The photo has too many pixels (at most {mp} megapixels)"),
            )
        }
        MediaError::Corrupt => (
            "照片已损坏或无法读取".to_owned(),
            "The photo is damaged or cannot be read".to_owned(),
        ),
    };
    FieldError::new("file", e.code(), zh, en)
}

fn random_name() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Stored names are ours (hex, a dot, a known suffix); anything else in a row is refused
/// rather than joined to a path.
fn safe_name(name: &str) -> bool {
    let (base, suffix) = name.split_once('.').unwrap_or((name, ""));
    base.len() == 32
        && base.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(suffix, "jpg" | "png" | "webp" | "thumb.jpg")
}

/// Writes `bytes` to `dir/name` so that the name appears only with the complete content.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = dir.join(format!(".tmp-{}", random_name()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn io_error(what: &str, e: std::io::Error) -> ServiceError {
    // Paths and OS errors only: no content, no personal data.
    ServiceError::Store(StoreError::Backend(format!(
        "attachment files: {what}: {e}"
    )))
}

impl Attachments {
    /// Creates the directory (owner-only on Unix) if needed.
    pub fn new(store: Store, settings: AttachmentSettings) -> std::io::Result<Attachments> {
        std::fs::create_dir_all(&settings.dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&settings.dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(Attachments {
            store,
            dir: Arc::new(settings.dir),
            limits: settings.limits,
        })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Checks a photo (type, size, pixels), strips its metadata unless the location is kept,
    /// and makes the thumbnail. CPU work, done off the async runtime.
    pub async fn prepare(&self, upload: Upload) -> Result<Prepared> {
        let limits = self.limits;
        tokio::task::spawn_blocking(move || {
            wangge_media::process(
                &upload.bytes,
                upload.declared_type.as_deref(),
                upload.keep_location,
                &limits,
            )
        })
        .await
        .map_err(|e| ServiceError::Store(StoreError::Backend(format!("photo task: {e}"))))?
        .map(Prepared)
        .map_err(|e| ServiceError::invalid(media_field_error(&e)))
    }

    /// Stores a prepared photo under `parent` (which must be in scope, else NotFound).
    pub async fn attach(
        &self,
        scope: &Scope,
        uploader: (Option<i64>, &str),
        parent: AttachmentParent,
        photo: Prepared,
    ) -> Result<Attachment> {
        let p = photo.0;
        let base = random_name();
        let stored_name = format!("{base}.{}", p.media_type.extension());
        let thumbnail_name = format!("{base}.thumb.jpg");
        let new = NewAttachment {
            parent,
            content_type: p.media_type.content_type().to_owned(),
            byte_size: i64::try_from(p.bytes.len()).unwrap_or(i64::MAX),
            content_hash: blake3::hash(&p.bytes).to_hex().to_string(),
            stored_name: stored_name.clone(),
            thumbnail_name: thumbnail_name.clone(),
            width: p.width,
            height: p.height,
            kept_location: p.kept_location,
            uploaded_by_id: uploader.0,
            uploaded_by: uploader.1.to_owned(),
        };
        let dir = self.dir.clone();
        let names = (stored_name.clone(), thumbnail_name.clone());
        tokio::task::spawn_blocking(move || {
            write_atomically(&dir, &names.0, &p.bytes)?;
            write_atomically(&dir, &names.1, &p.thumbnail).inspect_err(|_| {
                let _ = std::fs::remove_file(dir.join(&names.0));
            })
        })
        .await
        .map_err(|e| ServiceError::Store(StoreError::Backend(format!("photo task: {e}"))))?
        .map_err(|e| io_error("write", e))?;
        match self.store.insert_attachment(scope, &new).await {
            Ok(a) => Ok(a),
            Err(e) => {
                let _ = std::fs::remove_file(self.dir.join(&stored_name));
                let _ = std::fs::remove_file(self.dir.join(&thumbnail_name));
                Err(e.into())
            }
        }
    }

    /// Checks the parent first (nothing is processed for a parent the caller cannot see),
    /// then prepares and stores the photo.
    pub async fn upload(
        &self,
        scope: &Scope,
        uploader: (Option<i64>, &str),
        parent: AttachmentParent,
        upload: Upload,
    ) -> Result<Attachment> {
        self.store.attachment_parent_area(scope, parent).await?;
        let photo = self.prepare(upload).await?;
        self.attach(scope, uploader, parent, photo).await
    }

    /// An attachment's file, with the same scope check as its parent.
    pub async fn read(
        &self,
        scope: &Scope,
        id: i64,
        variant: Variant,
    ) -> Result<(Attachment, Vec<u8>)> {
        let a = self.store.attachment(scope, id).await?;
        let name = match variant {
            Variant::Original => &a.stored_name,
            Variant::Thumbnail => &a.thumbnail_name,
        };
        if !safe_name(name) {
            return Err(ServiceError::Store(StoreError::Decode(format!(
                "attachments.stored_name of {id}"
            ))));
        }
        let bytes = tokio::fs::read(self.dir.join(name))
            .await
            .map_err(|e| io_error(&format!("read attachment {id}"), e))?;
        Ok((a, bytes))
    }

    /// The content type a variant is served with.
    pub fn content_type(a: &Attachment, variant: Variant) -> &'static str {
        match variant {
            Variant::Thumbnail => MediaType::Jpeg.content_type(),
            Variant::Original => MediaType::from_content_type(&a.content_type)
                .unwrap_or(MediaType::Jpeg)
                .content_type(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn only_our_own_names_become_paths() {
        let base = "0123456789abcdef0123456789abcdef";
        assert!(safe_name(&format!("{base}.jpg")));
        assert!(safe_name(&format!("{base}.thumb.jpg")));
        assert!(!safe_name("../../etc/passwd"));
        assert!(!safe_name(&format!("{base}.svg")));
        assert!(!safe_name(&format!("../{base}.jpg")));
    }
}
