//! Typed fields of a frame body: a one-byte type tag, then the value.
//!
//! Fixed-size values are big-endian; strings and byte strings carry a u32
//! length. A body is a plain sequence of fields whose order each opcode
//! defines in `PROTOCOL.md`, so a reader takes them in order with typed
//! getters and every mismatch is a [`DecodeError`], never a panic.

use super::error::DecodeError;
use super::field_type::FieldType;

/// One decoded field, borrowing strings and bytes from the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<'a> {
    Bool(bool),
    U32(u32),
    U64(u64),
    Str(&'a str),
    Bytes(&'a [u8]),
    Uuid([u8; 16]),
    I64(i64),
    Null,
}

impl Field<'_> {
    pub fn field_type(&self) -> FieldType {
        match self {
            Field::Bool(_) => FieldType::Bool,
            Field::U32(_) => FieldType::U32,
            Field::U64(_) => FieldType::U64,
            Field::Str(_) => FieldType::Str,
            Field::Bytes(_) => FieldType::Bytes,
            Field::Uuid(_) => FieldType::Uuid,
            Field::I64(_) => FieldType::I64,
            Field::Null => FieldType::Null,
        }
    }
}

/// Appends fields to a buffer (usually a frame's output, via `FrameWriter`).
pub struct FieldWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> FieldWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        FieldWriter { out }
    }

    pub fn field(&mut self, field: &Field<'_>) -> &mut Self {
        match *field {
            Field::Bool(v) => self.bool(v),
            Field::U32(v) => self.u32(v),
            Field::U64(v) => self.u64(v),
            Field::Str(v) => self.str(v),
            Field::Bytes(v) => self.bytes(v),
            Field::Uuid(v) => self.uuid(v),
            Field::I64(v) => self.i64(v),
            Field::Null => self.null(),
        }
    }

    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.out
            .extend_from_slice(&[FieldType::Bool as u8, v as u8]);
        self
    }

    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.out.push(FieldType::U32 as u8);
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.out.push(FieldType::U64 as u8);
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.out.push(FieldType::I64 as u8);
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn str(&mut self, v: &str) -> &mut Self {
        self.len_prefixed(FieldType::Str, v.as_bytes())
    }

    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.len_prefixed(FieldType::Bytes, v)
    }

    pub fn uuid(&mut self, v: [u8; 16]) -> &mut Self {
        self.out.push(FieldType::Uuid as u8);
        self.out.extend_from_slice(&v);
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.out.push(FieldType::Null as u8);
        self
    }

    fn len_prefixed(&mut self, tag: FieldType, v: &[u8]) -> &mut Self {
        // A field longer than u32::MAX can never fit a frame; the frame
        // writer's size check refuses the frame, so saturating is safe here.
        let len = u32::try_from(v.len()).unwrap_or(u32::MAX);
        self.out.push(tag as u8);
        self.out.extend_from_slice(&len.to_be_bytes());
        self.out.extend_from_slice(v);
        self
    }
}

/// Reads fields in order from a frame body.
#[derive(Debug, Clone)]
pub struct FieldReader<'a> {
    body: &'a [u8],
    pos: usize,
}

impl<'a> FieldReader<'a> {
    pub fn new(body: &'a [u8]) -> Self {
        FieldReader { body, pos: 0 }
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.body.len()
    }

    /// The next field, whatever its type; `None` at the end of the body.
    pub fn next_field(&mut self) -> Result<Option<Field<'a>>, DecodeError> {
        if self.is_empty() {
            return Ok(None);
        }
        let byte = self.body[self.pos];
        let tag = FieldType::from_tag(byte).ok_or(DecodeError::UnknownFieldType(byte))?;
        self.pos += 1;
        let field = match tag {
            FieldType::Bool => match self.take(1)?[0] {
                0 => Field::Bool(false),
                1 => Field::Bool(true),
                other => return Err(DecodeError::InvalidBool(other)),
            },
            FieldType::U32 => Field::U32(u32::from_be_bytes(self.array()?)),
            FieldType::U64 => Field::U64(u64::from_be_bytes(self.array()?)),
            FieldType::I64 => Field::I64(i64::from_be_bytes(self.array()?)),
            FieldType::Uuid => Field::Uuid(self.array()?),
            FieldType::Str => {
                let raw = self.len_prefixed()?;
                Field::Str(std::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8)?)
            }
            FieldType::Bytes => Field::Bytes(self.len_prefixed()?),
            FieldType::Null => Field::Null,
        };
        Ok(Some(field))
    }

    fn expect(&mut self, want: FieldType) -> Result<Field<'a>, DecodeError> {
        let field = self.next_field()?.ok_or(DecodeError::MissingField(want))?;
        if field.field_type() != want {
            return Err(DecodeError::WrongFieldType {
                expected: want,
                found: field.field_type(),
            });
        }
        Ok(field)
    }

    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.expect(FieldType::Bool)? {
            Field::Bool(v) => Ok(v),
            _ => unreachable!("expect checked the type"),
        }
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        match self.expect(FieldType::U32)? {
            Field::U32(v) => Ok(v),
            _ => unreachable!("expect checked the type"),
        }
    }

    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        match self.expect(FieldType::U64)? {
            Field::U64(v) => Ok(v),
            _ => unreachable!("expect checked the type"),
        }
    }

    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        match self.expect(FieldType::I64)? {
            Field::I64(v) => Ok(v),
            _ => unreachable!("expect checked the type"),
        }
    }

    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        match self.expect(FieldType::Str)? {
            Field::Str(v) => Ok(v),
            _ => unreachable!("expect checked the type"),
        }
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        match self.expect(FieldType::Bytes)? {
            Field::Bytes(v) => Ok(v),
            _ => unreachable!("expect checked the type"),
        }
    }

    pub fn uuid(&mut self) -> Result<[u8; 16], DecodeError> {
        match self.expect(FieldType::Uuid)? {
            Field::Uuid(v) => Ok(v),
            _ => unreachable!("expect checked the type"),
        }
    }

    /// A string or `null`.
    pub fn opt_str(&mut self) -> Result<Option<&'a str>, DecodeError> {
        match self.next_field()? {
            Some(Field::Null) => Ok(None),
            Some(Field::Str(v)) => Ok(Some(v)),
            Some(other) => Err(DecodeError::WrongFieldType {
                expected: FieldType::Str,
                found: other.field_type(),
            }),
            None => Err(DecodeError::MissingField(FieldType::Str)),
        }
    }

    /// Ends reading: trailing bytes are an error, so a client that sends
    /// more fields than the opcode takes learns it instead of being ignored.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.body.len().saturating_sub(self.pos) {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let available = self.body.len() - self.pos;
        if n > available {
            return Err(DecodeError::Truncated {
                needed: n as u64,
                available,
            });
        }
        let out = &self.body[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn len_prefixed(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = u32::from_be_bytes(self.array()?);
        self.take(len as usize)
    }
}

/// Decodes a whole body into its fields (tests, debugging, generic tools).
pub fn decode_fields(body: &[u8]) -> Result<Vec<Field<'_>>, DecodeError> {
    let mut reader = FieldReader::new(body);
    let mut out = Vec::new();
    while let Some(field) = reader.next_field()? {
        out.push(field);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_getters_report_the_mismatch() {
        let mut body = Vec::new();
        FieldWriter::new(&mut body).u32(5).str("ok");
        let mut r = FieldReader::new(&body);
        assert_eq!(
            r.str(),
            Err(DecodeError::WrongFieldType {
                expected: FieldType::Str,
                found: FieldType::U32
            })
        );
        let mut r = FieldReader::new(&body);
        assert_eq!(r.u32(), Ok(5));
        assert_eq!(r.str(), Ok("ok"));
        assert_eq!(r.u64(), Err(DecodeError::MissingField(FieldType::U64)));
    }

    #[test]
    fn trailing_fields_are_an_error() {
        let mut body = Vec::new();
        FieldWriter::new(&mut body).u32(5).bool(true);
        let mut r = FieldReader::new(&body);
        r.u32().unwrap();
        assert_eq!(r.finish(), Err(DecodeError::TrailingBytes(2)));
    }

    #[test]
    fn a_huge_string_length_is_truncation_not_a_panic() {
        let body = [FieldType::Str as u8, 0xff, 0xff, 0xff, 0xff, b'a'];
        assert!(matches!(
            FieldReader::new(&body).str(),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn invalid_utf8_and_bools_are_typed_errors() {
        let body = [FieldType::Str as u8, 0, 0, 0, 1, 0xff];
        assert_eq!(FieldReader::new(&body).str(), Err(DecodeError::InvalidUtf8));
        let body = [FieldType::Bool as u8, 2];
        assert_eq!(
            FieldReader::new(&body).bool(),
            Err(DecodeError::InvalidBool(2))
        );
    }
}
