//! The type tags of fields, apart from the field codec: the error type
//! names them and the codec uses both, so this file imports neither.

use std::fmt;

/// The type tag of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FieldType {
    Bool = 0x01,
    U32 = 0x02,
    U64 = 0x03,
    Str = 0x04,
    Bytes = 0x05,
    Uuid = 0x06,
    I64 = 0x07,
    Null = 0x08,
}

impl FieldType {
    pub const ALL: [FieldType; 8] = [
        FieldType::Bool,
        FieldType::U32,
        FieldType::U64,
        FieldType::Str,
        FieldType::Bytes,
        FieldType::Uuid,
        FieldType::I64,
        FieldType::Null,
    ];

    /// The type a tag byte names, or `None` for an unknown tag.
    pub fn from_tag(tag: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| *t as u8 == tag)
    }

    pub fn name(self) -> &'static str {
        match self {
            FieldType::Bool => "bool",
            FieldType::U32 => "u32",
            FieldType::U64 => "u64",
            FieldType::Str => "str",
            FieldType::Bytes => "bytes",
            FieldType::Uuid => "uuid",
            FieldType::I64 => "i64",
            FieldType::Null => "null",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
