//! Turning an upload into an avatar: the bytes decide the format (JPEG,
//! PNG, GIF or WebP — never the file name or the declared type), the
//! decoder runs under size limits (no decompression bombs), and the picture
//! is cropped to a square and re-encoded as a 256×256 PNG. Re-encoding
//! drops every byte that was not pixels: EXIF and GPS metadata, comments,
//! and whatever a polyglot file hid.

use image::{ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// The side of a stored avatar, in pixels.
pub const SIDE: u32 = 256;

/// Why an upload is not an avatar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not one of the accepted formats, or not a picture at all.
    NotAnImage,
    /// Too many pixels to decode safely.
    TooBig,
}

pub fn to_avatar(bytes: &[u8]) -> Result<Vec<u8>, Refused> {
    let format = image::guess_format(bytes).map_err(|_| Refused::NotAnImage)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif | ImageFormat::WebP
    ) {
        return Err(Refused::NotAnImage);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(8192);
    limits.max_image_height = Some(8192);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    // A decoder that panics on hostile bytes (zune-jpeg 0.5.15 does, in
    // its IDCT, on inputs the avatar fuzz target found) has been handed
    // something that is not an image we can use: say so, as for any other
    // undecodable file, rather than a 500 from the worker's own guard.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.decode()))
        .map_err(|_| Refused::NotAnImage)?;
    let picture = decoded.map_err(|e| match e {
        image::ImageError::Limits(_) => Refused::TooBig,
        _ => Refused::NotAnImage,
    })?;
    // A header may declare a side of 0 (the GIF decoder accepts one): no
    // pixels to crop, and the resize would make a 256x1 "avatar".
    if picture.width() == 0 || picture.height() == 0 {
        return Err(Refused::NotAnImage);
    }
    // Crop to the centre square first, then scale it: never the other way
    // round. `resize_to_fill` scales the whole picture to cover 256x256
    // first, so an 8192x1 picture (a 240-byte PNG) became a 2,097,152x256
    // one on the way: 20 s and 1.6 GB per upload (found by fuzzing).
    let side = picture.width().min(picture.height());
    let square = picture
        .crop_imm(
            (picture.width() - side) / 2,
            (picture.height() - side) / 2,
            side,
            side,
        )
        .resize_exact(SIDE, SIDE, image::imageops::FilterType::Lanczos3);
    let mut out = Vec::new();
    square
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(|_| Refused::NotAnImage)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 99]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn pictures_become_256_square_pngs() {
        let out = to_avatar(&png(640, 300)).unwrap();
        let back = image::load_from_memory(&out).unwrap();
        assert_eq!((back.width(), back.height()), (SIDE, SIDE));
        assert_eq!(image::guess_format(&out).unwrap(), ImageFormat::Png);
    }

    #[test]
    fn non_images_and_polyglots_are_refused_or_neutralised() {
        assert_eq!(
            to_avatar(b"#!/bin/sh\nrm -rf /\n"),
            Err(Refused::NotAnImage)
        );
        // A GIF header over garbage declares absurd dimensions: refused either way.
        assert!(to_avatar(b"GIF89a but not really").is_err());
        let mut polyglot = png(32, 32);
        polyglot.extend_from_slice(b"<script>alert(1)</script>");
        let out = to_avatar(&polyglot).unwrap();
        assert!(
            !out.windows(8).any(|w| w == b"<script>"),
            "trailing payload dropped"
        );
    }
}
