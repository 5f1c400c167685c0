//! Property tests of the codec: typed fields round-trip through a frame,
//! a frame decodes the same however the stream is split, and no byte
//! sequence makes any decoder panic.

use proptest::prelude::*;
use throng_core::proto::{self, decode_fields, Field, FieldReader, FrameWriter, Header};

#[derive(Debug, Clone)]
enum Owned {
    Bool(bool),
    U32(u32),
    U64(u64),
    I64(i64),
    Str(String),
    Bytes(Vec<u8>),
    Uuid([u8; 16]),
    Null,
}

impl Owned {
    fn as_field(&self) -> Field<'_> {
        match self {
            Owned::Bool(v) => Field::Bool(*v),
            Owned::U32(v) => Field::U32(*v),
            Owned::U64(v) => Field::U64(*v),
            Owned::I64(v) => Field::I64(*v),
            Owned::Str(v) => Field::Str(v),
            Owned::Bytes(v) => Field::Bytes(v),
            Owned::Uuid(v) => Field::Uuid(*v),
            Owned::Null => Field::Null,
        }
    }
}

fn field() -> impl Strategy<Value = Owned> {
    prop_oneof![
        any::<bool>().prop_map(Owned::Bool),
        any::<u32>().prop_map(Owned::U32),
        any::<u64>().prop_map(Owned::U64),
        any::<i64>().prop_map(Owned::I64),
        ".{0,40}".prop_map(Owned::Str),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(Owned::Bytes),
        any::<[u8; 16]>().prop_map(Owned::Uuid),
        Just(Owned::Null),
    ]
}

fn encode(header: Header, fields: &[Owned]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = FrameWriter::new(&mut out, header, proto::DEFAULT_MAX_FRAME);
    {
        let mut f = w.fields();
        for field in fields {
            f.field(&field.as_field());
        }
    }
    w.finish().unwrap();
    out
}

proptest! {
    #[test]
    fn frames_round_trip(
        opcode in any::<u8>(),
        status in any::<u8>(),
        response in any::<bool>(),
        id in any::<u32>(),
        fields in proptest::collection::vec(field(), 0..12),
    ) {
        let header = Header { opcode, flags: response as u8, status, request_id: id };
        let bytes = encode(header, &fields);
        let (frame, used) = proto::decode(&bytes, proto::DEFAULT_MAX_FRAME).unwrap().unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(frame.header, header);
        let decoded = decode_fields(frame.body).unwrap();
        let expected: Vec<Field<'_>> = fields.iter().map(Owned::as_field).collect();
        prop_assert_eq!(decoded, expected);
    }

    #[test]
    fn a_stream_of_frames_decodes_the_same_however_it_is_split(
        frames in proptest::collection::vec(proptest::collection::vec(field(), 0..4), 1..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut stream = Vec::new();
        for (i, fields) in frames.iter().enumerate() {
            stream.extend(encode(Header::request(1, i as u32), fields));
        }
        // Feed the stream in pieces, as a socket would deliver it.
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        points.push(stream.len());
        points.sort_unstable();
        let mut buffer = Vec::new();
        let mut seen = Vec::new();
        let mut fed = 0;
        for point in points {
            buffer.extend_from_slice(&stream[fed..point]);
            fed = point;
            while let Some((frame, used)) = proto::decode(&buffer, proto::DEFAULT_MAX_FRAME).unwrap() {
                seen.push(frame.header.request_id);
                buffer.drain(..used);
            }
        }
        prop_assert!(buffer.is_empty());
        prop_assert_eq!(seen, (0..frames.len() as u32).collect::<Vec<_>>());
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), max in 0u32..1024) {
        let _ = proto::decode(&bytes, max);
        let _ = decode_fields(&bytes);
        let mut r = FieldReader::new(&bytes);
        let _ = r.str();
        let _ = r.u64();
        let _ = r.bool();
        let _ = r.opt_str();
        let _ = r.uuid();
        let _ = r.bytes();
        let _ = r.finish();
    }

    #[test]
    fn random_bodies_behind_a_valid_header_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&((8 + body.len()) as u32).to_be_bytes());
        bytes.extend_from_slice(&[proto::VERSION, 0x10, 0, 0, 0, 0, 0, 1]);
        bytes.extend_from_slice(&body);
        let (frame, _) = proto::decode(&bytes, proto::DEFAULT_MAX_FRAME).unwrap().unwrap();
        let _ = decode_fields(frame.body);
    }
}
