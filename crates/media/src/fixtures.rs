//! Test photos with metadata as phones write it, for this crate's tests and for the services,
//! API and browser tests (feature `test-fixtures`).

use image::{ImageEncoder, RgbImage};

/// The location written into test metadata; stripped output must not contain it.
pub const SECRET: &[u8] = b"GPS 37.8706N 112.5489E";

/// A little-endian TIFF block (the other byte order from the one the stripper writes) with an
/// ImageDescription holding [`SECRET`] and, optionally, an Orientation.
pub fn exif_tiff(orientation: Option<u16>) -> Vec<u8> {
    let n: u16 = if orientation.is_some() { 2 } else { 1 };
    let mut text = SECRET.to_vec();
    text.push(0);
    let data_at = 8 + 2 + 12 * u32::from(n) + 4;
    let mut t = b"II\x2a\0\x08\0\0\0".to_vec();
    t.extend_from_slice(&n.to_le_bytes());
    t.extend_from_slice(&0x010Eu16.to_le_bytes());
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&u32::try_from(text.len()).unwrap().to_le_bytes());
    t.extend_from_slice(&data_at.to_le_bytes());
    if let Some(o) = orientation {
        t.extend_from_slice(&0x0112u16.to_le_bytes());
        t.extend_from_slice(&3u16.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&o.to_le_bytes());
        t.extend_from_slice(&[0, 0]);
    }
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&text);
    t
}

pub fn encode_jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(
            img,
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

/// A JPEG as a phone writes it: JFIF, then Exif with the location, XMP, a comment, and a
/// trailer after the end of the image.
pub fn jpeg_with_exif(img: &RgbImage, orientation: Option<u16>) -> Vec<u8> {
    let plain = encode_jpeg(img);
    let mut segs = Vec::new();
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&exif_tiff(orientation));
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>".to_vec();
    xmp.extend_from_slice(SECRET);
    for (marker, payload) in [(0xE1u8, app1), (0xE1, xmp), (0xFE, SECRET.to_vec())] {
        segs.extend_from_slice(&[0xFF, marker]);
        segs.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        segs.extend_from_slice(&payload);
    }
    // After the encoder's JFIF segment when it wrote one, as cameras do.
    let at = if plain[2..4] == [0xFF, 0xE0] {
        4 + usize::from(u16::from_be_bytes([plain[4], plain[5]]))
    } else {
        2
    };
    let mut out = plain[..at].to_vec();
    out.extend_from_slice(&segs);
    out.extend_from_slice(&plain[at..]);
    out.extend_from_slice(SECRET);
    out
}

/// A small landscape photo with a location in its Exif, an XMP packet and a comment.
pub fn photo_with_location() -> Vec<u8> {
    let img = RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 128])
    });
    jpeg_with_exif(&img, None)
}
