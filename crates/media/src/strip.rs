//! Lossless metadata removal: the container is walked and metadata segments or chunks are left
//! out; image data is copied byte for byte, so the photo decodes to exactly the same pixels.
//!
//! The one fact kept is the orientation the camera recorded (a portrait photo would otherwise
//! show on its side). It is written back as a minimal Exif block holding that single tag, and
//! only when it is not the default.

use image::metadata::Orientation;

use crate::{MediaError, MediaType};

/// The photo without Exif (location, camera, times), XMP, comments or text chunks.
pub fn strip_metadata(media_type: MediaType, input: &[u8]) -> Result<Vec<u8>, MediaError> {
    match media_type {
        MediaType::Jpeg => strip_jpeg(input),
        MediaType::Png => strip_png(input),
        MediaType::WebP => strip_webp(input),
    }
}

/// A TIFF structure (big-endian) with one IFD holding one entry: Orientation.
fn minimal_tiff(orientation: Orientation) -> Vec<u8> {
    let mut t = Vec::with_capacity(26);
    t.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
    t.extend_from_slice(&1u16.to_be_bytes());
    t.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    t.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    t.extend_from_slice(&1u32.to_be_bytes());
    t.extend_from_slice(&u16::from(orientation.to_exif()).to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    t
}

/// The orientation to carry over, if the metadata records one other than the default.
fn kept_orientation(tiff: &[u8]) -> Option<Orientation> {
    Orientation::from_exif_chunk(tiff).filter(|o| *o != Orientation::NoTransforms)
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

fn read_u32(b: &[u8], at: usize, big_endian: bool) -> Option<usize> {
    let bytes: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    let v = if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    };
    usize::try_from(v).ok()
}

const EXIF_HEADER: &[u8] = b"Exif\0\0";

/// Whether a JPEG application segment (or comment) is kept: only what decoding and colour need.
fn jpeg_segment_kept(marker: u8, payload: &[u8]) -> bool {
    match marker {
        // JFIF: density and aspect ratio (its JFXX extension carries a thumbnail: dropped).
        0xE0 => payload.starts_with(b"JFIF\0"),
        // ICC colour profile (MPF and FlashPix in APP2 reference hidden images: dropped).
        0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
        // Adobe: the colour transform that CMYK and YCCK photos need to decode correctly.
        0xEE => payload.starts_with(b"Adobe"),
        // Other APPn (Exif, XMP, IPTC, maker data) and comments.
        0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,
        _ => true,
    }
}

fn strip_jpeg(input: &[u8]) -> Result<Vec<u8>, MediaError> {
    if !input.starts_with(&[0xFF, 0xD8]) {
        return Err(MediaError::Corrupt);
    }
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut orientation = None;
    // Where the Exif segment goes: after SOI, or after a JFIF segment right behind it.
    let mut exif_at = out.len();
    let mut first = true;
    let mut i = 2;
    loop {
        if input.get(i) != Some(&0xFF) {
            return Err(MediaError::Corrupt);
        }
        while input.get(i) == Some(&0xFF) {
            i += 1;
        }
        let marker = *input.get(i).ok_or(MediaError::Corrupt)?;
        i += 1;
        match marker {
            // End of image: anything after it (appended previews, vendor trailers) is dropped.
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                break;
            }
            0x01 | 0xD0..=0xD7 => out.extend_from_slice(&[0xFF, marker]),
            0x00 | 0xD8 => return Err(MediaError::Corrupt),
            _ => {
                let len = be16(input, i).ok_or(MediaError::Corrupt)?;
                let end = i.checked_add(len).ok_or(MediaError::Corrupt)?;
                if len < 2 || end > input.len() {
                    return Err(MediaError::Corrupt);
                }
                let payload = &input[i + 2..end];
                if marker == 0xE1
                    && orientation.is_none()
                    && let Some(tiff) = payload.strip_prefix(EXIF_HEADER)
                {
                    orientation = kept_orientation(tiff);
                }
                if jpeg_segment_kept(marker, payload) {
                    out.extend_from_slice(&[0xFF, marker]);
                    out.extend_from_slice(&input[i..end]);
                    if first && marker == 0xE0 {
                        exif_at = out.len();
                    }
                }
                i = end;
                if marker == 0xDA {
                    i = copy_scan(input, i, &mut out);
                    if i >= input.len() {
                        // A file cut off after its last scan still decodes: keep what there is.
                        break;
                    }
                }
            }
        }
        first = false;
    }
    if let Some(o) = orientation {
        let tiff = minimal_tiff(o);
        let len = u16::try_from(2 + EXIF_HEADER.len() + tiff.len()).expect("small segment");
        let mut segment = vec![0xFF, 0xE1];
        segment.extend_from_slice(&len.to_be_bytes());
        segment.extend_from_slice(EXIF_HEADER);
        segment.extend_from_slice(&tiff);
        out.splice(exif_at..exif_at, segment);
    }
    Ok(out)
}

/// Copies entropy-coded data after a scan header, up to the next marker that is not a restart
/// marker or a stuffed byte; returns where that marker starts.
fn copy_scan(input: &[u8], start: usize, out: &mut Vec<u8>) -> usize {
    let mut j = start;
    while j < input.len() {
        if input[j] == 0xFF {
            match input.get(j + 1) {
                Some(0x00 | 0xD0..=0xD7) => j += 2,
                // A run of fill bytes before a marker: the last one belongs to the marker.
                Some(0xFF) => j += 1,
                None => j = input.len(),
                Some(_) => break,
            }
        } else {
            j += 1;
        }
    }
    out.extend_from_slice(&input[start..j]);
    j
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(12 + data.len());
    c.extend_from_slice(
        &u32::try_from(data.len())
            .expect("small chunk")
            .to_be_bytes(),
    );
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    c.extend_from_slice(&h.finalize().to_be_bytes());
    c
}

fn strip_png(input: &[u8]) -> Result<Vec<u8>, MediaError> {
    if !input.starts_with(PNG_SIGNATURE) {
        return Err(MediaError::Corrupt);
    }
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut orientation = None;
    let mut i = PNG_SIGNATURE.len();
    loop {
        let len = read_u32(input, i, true).ok_or(MediaError::Corrupt)?;
        let kind: [u8; 4] = input
            .get(i + 4..i + 8)
            .and_then(|k| k.try_into().ok())
            .ok_or(MediaError::Corrupt)?;
        let end = len
            .checked_add(i + 12)
            .filter(|e| *e <= input.len())
            .ok_or(MediaError::Corrupt)?;
        let data = &input[i + 8..i + 8 + len];
        match &kind {
            b"eXIf" => orientation = orientation.or_else(|| kept_orientation(data)),
            b"tEXt" | b"zTXt" | b"iTXt" | b"tIME" => {}
            b"IDAT" | b"IEND" => {
                // Metadata that must come before the image data goes right before it.
                if let Some(o) = orientation.take() {
                    out.extend_from_slice(&png_chunk(b"eXIf", &minimal_tiff(o)));
                }
                out.extend_from_slice(&input[i..end]);
            }
            _ => out.extend_from_slice(&input[i..end]),
        }
        if &kind == b"IEND" {
            return Ok(out);
        }
        i = end;
    }
}

fn strip_webp(input: &[u8]) -> Result<Vec<u8>, MediaError> {
    let riff_len = read_u32(input, 4, false).ok_or(MediaError::Corrupt)?;
    let total = riff_len
        .checked_add(8)
        .filter(|t| *t <= input.len() && *t >= 12)
        .ok_or(MediaError::Corrupt)?;
    let mut chunks: Vec<(&[u8], &[u8])> = Vec::new();
    let mut i = 12;
    while i < total {
        let kind = input.get(i..i + 4).ok_or(MediaError::Corrupt)?;
        let len = read_u32(input, i + 4, false).ok_or(MediaError::Corrupt)?;
        let end = len
            .checked_add(i + 8)
            .filter(|e| *e <= total)
            .ok_or(MediaError::Corrupt)?;
        chunks.push((kind, &input[i + 8..end]));
        // Chunks are padded to an even length.
        i = end + (len & 1);
    }
    let mut orientation = None;
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    for (kind, data) in &chunks {
        match *kind {
            b"EXIF" => orientation = orientation.or_else(|| kept_orientation(data)),
            b"XMP " => {}
            _ => push_riff_chunk(&mut out, kind, data),
        }
    }
    // Only the extended format (VP8X) can carry metadata, and its flags must say which.
    if let Some((b"VP8X", flags)) = chunks.first().map(|(k, d)| (*k, *d)) {
        let flags_at = 12 + 8;
        if flags.is_empty() {
            return Err(MediaError::Corrupt);
        }
        const EXIF_FLAG: u8 = 0x08;
        const XMP_FLAG: u8 = 0x04;
        out[flags_at] &= !(EXIF_FLAG | XMP_FLAG);
        if let Some(o) = orientation {
            out[flags_at] |= EXIF_FLAG;
            push_riff_chunk(&mut out, b"EXIF", &minimal_tiff(o));
        }
    }
    let riff_len = u32::try_from(out.len() - 8).map_err(|_| MediaError::Corrupt)?;
    out[4..8].copy_from_slice(&riff_len.to_le_bytes());
    Ok(out)
}

fn push_riff_chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
    out.extend_from_slice(kind);
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}
