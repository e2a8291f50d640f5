use image::metadata::Orientation;
use image::{ImageEncoder, RgbImage};
use proptest::prelude::*;

use super::*;
use crate::fixtures::{SECRET, encode_jpeg, exif_tiff, jpeg_with_exif};

fn pattern(w: u32, h: u32, seed: u8) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x as u8).wrapping_mul(7).wrapping_add(seed),
            (y as u8).wrapping_mul(13),
            seed ^ (x as u8 ^ y as u8),
        ])
    })
}

fn encode_png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img,
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn encode_webp(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(
            img,
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    c.extend_from_slice(&h.finalize().to_be_bytes());
    c
}

fn png_with_metadata(img: &RgbImage) -> Vec<u8> {
    let plain = encode_png(img);
    // Signature (8) and IHDR (25) first.
    let mut out = plain[..33].to_vec();
    out.extend(png_chunk(b"eXIf", &exif_tiff(None)));
    let mut text = b"Comment\0".to_vec();
    text.extend_from_slice(SECRET);
    out.extend(png_chunk(b"tEXt", &text));
    out.extend_from_slice(&plain[33..]);
    out
}

fn riff_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut c = kind.to_vec();
    c.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// An extended-format WebP (VP8X) with EXIF and XMP chunks around lossless image data.
fn webp_with_metadata(img: &RgbImage) -> Vec<u8> {
    let plain = encode_webp(img);
    let image_chunk = &plain[12..];
    let mut vp8x = vec![0x08 | 0x04, 0, 0, 0];
    vp8x.extend_from_slice(&(img.width() - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(img.height() - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    body.extend_from_slice(image_chunk);
    body.extend(riff_chunk(b"EXIF", &exif_tiff(None)));
    body.extend(riff_chunk(b"XMP ", SECRET));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    out.extend(body);
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The APP1 payloads of a JPEG, read up to its first scan.
fn app1_payloads(jpeg: &[u8]) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF && jpeg[i + 1] != 0xDA {
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if jpeg[i + 1] == 0xE1 {
            found.push(jpeg[i + 4..i + 2 + len].to_vec());
        }
        i += 2 + len;
    }
    found
}

fn pixels(bytes: &[u8]) -> Vec<u8> {
    image::load_from_memory(bytes).unwrap().to_rgb8().into_raw()
}

#[test]
fn sniffs_the_three_formats_and_nothing_else() {
    let img = pattern(8, 8, 1);
    assert_eq!(MediaType::sniff(&encode_jpeg(&img)), Some(MediaType::Jpeg));
    assert_eq!(MediaType::sniff(&encode_png(&img)), Some(MediaType::Png));
    assert_eq!(MediaType::sniff(&encode_webp(&img)), Some(MediaType::WebP));
    assert_eq!(MediaType::sniff(b"GIF89a\x01\0\x01\0"), None);
    assert_eq!(MediaType::sniff(b"<svg xmlns="), None);
    assert_eq!(MediaType::sniff(b"RIFF\0\0\0\0WAVE"), None);
}

#[test]
fn a_phone_jpeg_loses_its_location_and_keeps_its_pixels() {
    let img = pattern(48, 32, 3);
    let input = jpeg_with_exif(&img, None);
    assert!(contains(&input, SECRET));
    let p = process(&input, Some("image/jpeg"), false, &Limits::default()).unwrap();
    assert_eq!(p.media_type, MediaType::Jpeg);
    assert_eq!((p.width, p.height), (48, 32));
    assert!(!p.kept_location);
    assert!(!contains(&p.bytes, SECRET), "location left in the photo");
    assert!(
        app1_payloads(&p.bytes).is_empty(),
        "an Exif segment is left"
    );
    assert!(p.bytes.ends_with(&[0xFF, 0xD9]), "trailer after EOI kept");
    assert_eq!(pixels(&p.bytes), pixels(&input));
}

#[test]
fn keeping_the_location_stores_the_upload_unchanged() {
    let input = jpeg_with_exif(&pattern(16, 16, 5), None);
    let p = process(&input, None, true, &Limits::default()).unwrap();
    assert!(p.kept_location);
    assert_eq!(p.bytes, input);
    // The thumbnail never carries metadata.
    assert!(!contains(&p.thumbnail, SECRET));
}

#[test]
fn orientation_survives_as_the_only_exif_tag() {
    let img = pattern(40, 20, 9);
    let input = jpeg_with_exif(&img, Some(6));
    let p = process(&input, None, false, &Limits::default()).unwrap();
    // Displayed size: a quarter turn.
    assert_eq!((p.width, p.height), (20, 40));
    assert!(!contains(&p.bytes, SECRET));
    let app1 = app1_payloads(&p.bytes);
    assert_eq!(app1.len(), 1);
    let tiff = app1[0].strip_prefix(b"Exif\0\0").unwrap();
    assert_eq!(tiff.len(), 26, "only the orientation entry");
    assert_eq!(
        Orientation::from_exif_chunk(tiff),
        Some(Orientation::Rotate90)
    );
    assert_eq!(pixels(&p.bytes), pixels(&input));
    let thumb = image::load_from_memory(&p.thumbnail).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (20, 40));
}

#[test]
fn png_text_and_exif_chunks_are_dropped() {
    let img = pattern(30, 10, 2);
    let input = png_with_metadata(&img);
    let p = process(&input, Some("image/png"), false, &Limits::default()).unwrap();
    assert!(!contains(&p.bytes, SECRET));
    assert!(!contains(&p.bytes, b"eXIf") && !contains(&p.bytes, b"tEXt"));
    assert_eq!(pixels(&p.bytes), img.clone().into_raw());
}

#[test]
fn webp_exif_and_xmp_chunks_are_dropped_and_flags_cleared() {
    let img = pattern(12, 9, 4);
    let input = webp_with_metadata(&img);
    let p = process(&input, Some("image/webp"), false, &Limits::default()).unwrap();
    assert!(!contains(&p.bytes, SECRET));
    assert!(!contains(&p.bytes, b"EXIF") && !contains(&p.bytes, b"XMP "));
    assert_eq!(p.bytes[20] & 0x0C, 0, "VP8X still announces metadata");
    let riff = u32::from_le_bytes(p.bytes[4..8].try_into().unwrap()) as usize;
    assert_eq!(riff + 8, p.bytes.len());
    assert_eq!(pixels(&p.bytes), img.into_raw());
}

#[test]
fn thumbnails_are_small_jpegs() {
    let p = process(
        &encode_png(&pattern(800, 400, 1)),
        None,
        false,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(MediaType::sniff(&p.thumbnail), Some(MediaType::Jpeg));
    let t = image::load_from_memory(&p.thumbnail).unwrap();
    assert_eq!(
        (t.width(), t.height()),
        (THUMBNAIL_SIDE, THUMBNAIL_SIDE / 2)
    );
    // A small photo is not enlarged.
    let small = process(
        &encode_png(&pattern(50, 20, 1)),
        None,
        false,
        &Limits::default(),
    );
    let t = image::load_from_memory(&small.unwrap().thumbnail).unwrap();
    assert_eq!((t.width(), t.height()), (50, 20));
}

#[test]
fn refusals_are_specific() {
    let jpeg = encode_jpeg(&pattern(20, 20, 0));
    let limits = Limits::default();
    assert_eq!(
        process(&[], None, false, &limits).unwrap_err(),
        MediaError::Empty
    );
    assert_eq!(
        process(b"GIF89a\x01\0\x01\0\0\0\0", None, false, &limits).unwrap_err(),
        MediaError::UnsupportedType
    );
    assert_eq!(
        process(&jpeg, Some("image/png"), false, &limits).unwrap_err(),
        MediaError::TypeMismatch {
            declared: "image/png".into(),
            actual: "image/jpeg"
        }
    );
    assert!(matches!(
        process(&jpeg, Some("text/html"), false, &limits),
        Err(MediaError::TypeMismatch { .. })
    ));
    assert!(process(&jpeg, Some("application/octet-stream"), false, &limits).is_ok());
    assert!(process(&jpeg, Some("image/jpg"), false, &limits).is_ok());
    let tiny = Limits {
        max_bytes: jpeg.len() - 1,
        ..limits
    };
    assert_eq!(
        process(&jpeg, None, false, &tiny).unwrap_err(),
        MediaError::TooLarge {
            limit: jpeg.len() - 1
        }
    );
    let few = Limits {
        max_pixels: 399,
        ..limits
    };
    assert_eq!(
        process(&jpeg, None, false, &few).unwrap_err(),
        MediaError::TooManyPixels { limit: 399 }
    );
    assert_eq!(
        process(&jpeg[..40], None, false, &limits).unwrap_err(),
        MediaError::Corrupt
    );
}

#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    // A PNG that claims 100000 × 100000 pixels in a few dozen bytes.
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    bomb.extend(png_chunk(b"IHDR", &ihdr));
    bomb.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    bomb.extend(png_chunk(b"IEND", &[]));
    assert_eq!(
        process(&bomb, None, false, &Limits::default()).unwrap_err(),
        MediaError::TooManyPixels {
            limit: DEFAULT_MAX_PIXELS
        }
    );
}

fn any_image() -> impl Strategy<Value = RgbImage> {
    (1u32..40, 1u32..40, any::<u8>()).prop_map(|(w, h, seed)| pattern(w, h, seed))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn stripped_jpeg_has_no_exif_and_the_same_pixels(img in any_image(), o in prop::option::of(1u16..=8)) {
        let input = jpeg_with_exif(&img, o);
        let out = strip_metadata(MediaType::Jpeg, &input).unwrap();
        prop_assert!(!contains(&out, SECRET));
        let app1 = app1_payloads(&out);
        match o.filter(|o| *o != 1) {
            None => prop_assert!(app1.is_empty()),
            Some(o) => {
                prop_assert_eq!(app1.len(), 1);
                let tiff = app1[0].strip_prefix(b"Exif\0\0").unwrap();
                prop_assert_eq!(tiff.len(), 26);
                prop_assert_eq!(Orientation::from_exif_chunk(tiff).map(|o| o.to_exif()), Some(o as u8));
            }
        }
        prop_assert_eq!(pixels(&out), pixels(&input));
    }

    #[test]
    fn stripped_png_and_webp_keep_their_pixels(img in any_image()) {
        for (t, input) in [(MediaType::Png, png_with_metadata(&img)), (MediaType::WebP, webp_with_metadata(&img))] {
            let out = strip_metadata(t, &input).unwrap();
            prop_assert!(!contains(&out, SECRET));
            prop_assert_eq!(pixels(&out), img.clone().into_raw());
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = process(&bytes, None, false, &Limits::default());
        for t in MediaType::ALL {
            let _ = strip_metadata(t, &bytes);
        }
    }

    #[test]
    fn damaged_photos_never_panic(img in any_image(), cut in any::<prop::sample::Index>(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8)) {
        for mut input in [jpeg_with_exif(&img, Some(3)), png_with_metadata(&img), webp_with_metadata(&img)] {
            for (at, v) in &flips {
                let i = at.index(input.len());
                input[i] ^= v;
            }
            input.truncate(cut.index(input.len() + 1));
            let _ = process(&input, None, false, &Limits::default());
            if let Some(t) = MediaType::sniff(&input) {
                let _ = strip_metadata(t, &input);
            }
        }
    }
}
