//! Photos uploaded from phones: the real type from the magic bytes (JPEG, PNG, WebP only), a size
//! limit and a pixel limit (decompression bombs), metadata stripped without re-encoding (so the
//! photo keeps every pixel and the location goes), and a small JPEG thumbnail.
//!
//! Kept in its own crate so the image codecs compile once and stay out of app rebuilds.

#[cfg(any(test, feature = "test-fixtures"))]
pub mod fixtures;
mod strip;

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use thiserror::Error;

pub use strip::strip_metadata;

/// The photo formats accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Jpeg,
    Png,
    WebP,
}

impl MediaType {
    pub const ALL: [MediaType; 3] = [MediaType::Jpeg, MediaType::Png, MediaType::WebP];

    /// The MIME type it is served with.
    pub fn content_type(&self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::WebP => "image/webp",
        }
    }

    pub fn extension(&self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::WebP => "webp",
        }
    }

    /// A stored content type read back.
    pub fn from_content_type(s: &str) -> Option<MediaType> {
        match s.trim().to_ascii_lowercase().as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(MediaType::Jpeg),
            "image/png" => Some(MediaType::Png),
            "image/webp" => Some(MediaType::WebP),
            _ => None,
        }
    }

    /// What the bytes really are, whatever the file name or the browser claimed.
    pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(MediaType::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(MediaType::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(MediaType::WebP)
        } else {
            None
        }
    }

    fn format(&self) -> ImageFormat {
        match self {
            MediaType::Jpeg => ImageFormat::Jpeg,
            MediaType::Png => ImageFormat::Png,
            MediaType::WebP => ImageFormat::WebP,
        }
    }
}

/// Upload limits. The pixel limit guards against small files that decode to huge images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_pixels: u64,
}

/// 10 MiB, the most a phone photo needs.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;
/// 50 megapixels: the largest phone cameras, with room for panoramas up to that area.
pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;
/// Longest side of a thumbnail.
pub const THUMBNAIL_SIDE: u32 = 320;
const THUMBNAIL_QUALITY: u8 = 80;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: DEFAULT_MAX_BYTES,
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

/// Why an upload was refused. Messages never include the uploaded content.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MediaError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("only JPEG, PNG and WebP photos are accepted")]
    UnsupportedType,
    #[error("the file is a {actual} but was sent as {declared}")]
    TypeMismatch {
        declared: String,
        actual: &'static str,
    },
    #[error("the image is larger than {limit} pixels")]
    TooManyPixels { limit: u64 },
    #[error("the image is damaged or cannot be read")]
    Corrupt,
}

impl MediaError {
    /// A stable code for API errors.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::Empty => "attachment.empty",
            MediaError::TooLarge { .. } => "attachment.too_large",
            MediaError::UnsupportedType => "attachment.unsupported_type",
            MediaError::TypeMismatch { .. } => "attachment.type_mismatch",
            MediaError::TooManyPixels { .. } => "attachment.too_many_pixels",
            MediaError::Corrupt => "attachment.corrupt",
        }
    }
}

/// A checked photo, ready to store.
#[derive(Debug, Clone)]
pub struct Processed {
    pub media_type: MediaType,
    /// The photo as stored: metadata stripped unless location was kept.
    pub bytes: Vec<u8>,
    /// As displayed (after the orientation the camera recorded).
    pub width: u32,
    pub height: u32,
    /// JPEG, longest side at most [`THUMBNAIL_SIDE`], no metadata.
    pub thumbnail: Vec<u8>,
    pub kept_location: bool,
}

/// Checks an upload and prepares it for storage. `declared` is the content type the client sent
/// (absent or `application/octet-stream` when it did not know); a declared image type that the
/// bytes contradict is refused rather than trusted. With `keep_location`, the photo is stored as
/// uploaded; otherwise its metadata (Exif with GPS, XMP, comments, text chunks) is removed.
pub fn process(
    input: &[u8],
    declared: Option<&str>,
    keep_location: bool,
    limits: &Limits,
) -> Result<Processed, MediaError> {
    if input.is_empty() {
        return Err(MediaError::Empty);
    }
    if input.len() > limits.max_bytes {
        return Err(MediaError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    let media_type = MediaType::sniff(input).ok_or(MediaError::UnsupportedType)?;
    check_declared(declared, media_type)?;
    let (image, width, height) = decode(input, media_type, limits)?;
    let bytes = if keep_location {
        input.to_vec()
    } else {
        strip_metadata(media_type, input)?
    };
    Ok(Processed {
        media_type,
        bytes,
        width,
        height,
        thumbnail: thumbnail(&image)?,
        kept_location: keep_location,
    })
}

fn check_declared(declared: Option<&str>, actual: MediaType) -> Result<(), MediaError> {
    let Some(declared) = declared.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(());
    };
    // Parameters such as `; charset=` do not change the type.
    let essence = declared.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/octet-stream") {
        return Ok(());
    }
    match MediaType::from_content_type(essence) {
        Some(t) if t == actual => Ok(()),
        _ => Err(MediaError::TypeMismatch {
            declared: essence.chars().take(60).collect(),
            actual: actual.content_type(),
        }),
    }
}

/// Decodes under the pixel limit (checked from the header, before any pixel buffer exists) and
/// applies the recorded orientation.
fn decode(
    input: &[u8],
    media_type: MediaType,
    limits: &Limits,
) -> Result<(DynamicImage, u32, u32), MediaError> {
    let mut reader = ImageReader::new(Cursor::new(input));
    reader.set_format(media_type.format());
    let mut decoder_limits = image::Limits::default();
    // Up to 16-bit RGBA, plus the decoder's own buffers.
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8) + (64 << 20));
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(|_| MediaError::Corrupt)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(MediaError::Corrupt);
    }
    if u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(MediaError::TooManyPixels {
            limit: limits.max_pixels,
        });
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| MediaError::Corrupt)?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    Ok((image, width, height))
}

fn thumbnail(image: &DynamicImage) -> Result<Vec<u8>, MediaError> {
    // Never enlarged: a small photo is its own thumbnail.
    let small = if image.width().max(image.height()) > THUMBNAIL_SIDE {
        image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    } else {
        image.clone()
    };
    // JPEG has no alpha: transparent areas go on white, as they look on the page.
    let rgb = if small.color().has_alpha() {
        let rgba = small.to_rgba8();
        let mut out = image::RgbImage::new(rgba.width(), rgba.height());
        for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
            let a = u16::from(p[3]);
            for c in 0..3 {
                let v = (u16::from(p[c]) * a + 255 * (255 - a)) / 255;
                o[c] = u8::try_from(v).unwrap_or(u8::MAX);
            }
        }
        out
    } else {
        small.to_rgb8()
    };
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, THUMBNAIL_QUALITY);
    rgb.write_with_encoder(encoder)
        .map_err(|_| MediaError::Corrupt)?;
    Ok(out)
}

#[cfg(test)]
mod tests;
