//! Reading an avatar upload: the `multipart/form-data` body (parsed with
//! `multer`, driven to completion here since the whole body is already in
//! memory) yields the CSRF field and the file.

use bytes::Bytes;

/// The fields of the avatar form.
#[derive(Debug, Default)]
pub struct Upload {
    pub csrf: String,
    pub file: Vec<u8>,
}

/// Parses the body of an avatar form; `None` when it is not one.
pub fn parse(content_type: &str, body: Vec<u8>) -> Option<Upload> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream =
        futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(body)) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    pollster::block_on(async move {
        let mut upload = Upload::default();
        while let Some(field) = multipart.next_field().await.ok()? {
            match field.name() {
                Some("csrf") => upload.csrf = field.text().await.ok()?,
                Some("avatar") => upload.file = field.bytes().await.ok()?.to_vec(),
                _ => {}
            }
        }
        Some(upload)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_out_of_the_form() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG-bytes\r\n--XyZ--\r\n".to_vec();
        let u = parse("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(u.csrf, "abc");
        assert_eq!(u.file, b"\x89PNG-bytes");
        assert!(parse("text/plain", Vec::new()).is_none());
        assert!(parse("multipart/form-data; boundary=XyZ", b"garbage".to_vec()).is_none());
    }
}
