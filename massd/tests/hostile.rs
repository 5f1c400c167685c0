//! Clients that break the protocol are dropped with a named error frame,
//! and nobody else notices; tokens are checked when the node requires them.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use throng_core::node_token;

fn connect(fleet: &Fleet) -> TcpStream {
    let s = TcpStream::connect(fleet.addr(0)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Sends one UPDATE and returns the counter.
fn update(s: &mut TcpStream) -> u64 {
    s.write_all(&[0, 2, 2, 0]).unwrap();
    let mut answer = [0u8; 12];
    s.read_exact(&mut answer).unwrap();
    assert_eq!(&answer[..4], &[0, 10, 0x82, 0]);
    u64::from_be_bytes(answer[4..].try_into().unwrap())
}

/// Reads everything until the server closes; the status of its frame.
fn dropped_with(s: &mut TcpStream) -> (u8, String) {
    let mut all = Vec::new();
    s.read_to_end(&mut all)
        .expect("the server closes the connection");
    assert!(all.len() >= 4, "an error frame before closing: {all:?}");
    (all[3], String::from_utf8_lossy(&all[4..]).into_owned())
}

#[test]
fn garbage_and_giant_frames_are_dropped_without_disturbing_others() {
    let mut fleet = Fleet::new(1, "");
    fleet.serve(&[]);
    let mut good = connect(&fleet);
    assert_eq!(update(&mut good), 1);

    let mut garbage = connect(&fleet);
    garbage.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let (status, why) = dropped_with(&mut garbage);
    assert_eq!(status, 5, "too_large: {why}");

    let mut giant = connect(&fleet);
    giant.write_all(&[0xff, 0xff, 2, 0]).unwrap();
    let (status, why) = dropped_with(&mut giant);
    assert_eq!(status, 5, "{why}");
    assert!(why.contains("exceeds the maximum"), "{why}");

    let mut unknown = connect(&fleet);
    unknown.write_all(&[0, 2, 0x42, 0]).unwrap();
    let (status, why) = dropped_with(&mut unknown);
    assert_eq!(status, 4, "{why}");

    let mut short = connect(&fleet);
    short.write_all(&[0, 3, 2, 0, 9]).unwrap();
    let (status, _) = dropped_with(&mut short);
    assert_eq!(status, 3, "an UPDATE with a body is malformed");

    assert_eq!(update(&mut good), 2, "the well-behaved connection goes on");
    assert_eq!(update(&mut good), 3);
    // Stats are published by each reactor every 10 ms: poll briefly.
    let dropped = || -> u64 {
        fleet
            .ctl(0, &["stats"])
            .lines()
            .filter_map(|l| l.split("dropped").nth(1))
            .map(|n| n.trim().parse::<u64>().unwrap())
            .sum()
    };
    assert!(eventually(Duration::from_secs(5), || dropped() == 4));
}

#[test]
fn a_node_that_requires_tokens_admits_only_its_own() {
    let secret = "the-secret-authd-and-massd-share-0123456789";
    let mut fleet = Fleet::new(
        1,
        &format!("[server]\nrequire_token = true\nsecret = \"{secret}\"\nnode_id = \"node-a\""),
    );
    fleet.serve(&[]);
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60;
    let hello = |token: &str| {
        let mut frame = ((token.len() + 2) as u16).to_be_bytes().to_vec();
        frame.extend_from_slice(&[1, 0]);
        frame.extend_from_slice(token.as_bytes());
        frame
    };

    let mut anonymous = connect(&fleet);
    anonymous.write_all(&[0, 2, 2, 0]).unwrap();
    let (status, _) = dropped_with(&mut anonymous);
    assert_eq!(status, 2, "unauthenticated");

    let mut other_node = connect(&fleet);
    let token = node_token::token(secret.as_bytes(), "ab12", "node-b", expires);
    other_node.write_all(&hello(&token)).unwrap();
    assert_eq!(dropped_with(&mut other_node).0, 1, "denied");

    let mut forged = connect(&fleet);
    let token = node_token::token(
        b"not-the-secret-not-the-secret-00",
        "ab12",
        "node-a",
        expires,
    );
    forged.write_all(&hello(&token)).unwrap();
    assert_eq!(dropped_with(&mut forged).0, 1, "denied");

    let mut admitted = connect(&fleet);
    let token = node_token::token(secret.as_bytes(), "ab12", "node-a", expires);
    admitted.write_all(&hello(&token)).unwrap();
    let mut head = [0u8; 4];
    admitted.read_exact(&mut head).unwrap();
    assert_eq!(head[2..], [0x81, 0], "HELLO ok");
    let mut key = vec![0u8; usize::from(u16::from_be_bytes([head[0], head[1]])) - 2];
    admitted.read_exact(&mut key).unwrap();
    assert_eq!(
        String::from_utf8(key).unwrap(),
        admitted.local_addr().unwrap().to_string(),
        "the key is the client's IP:PORT"
    );
    assert_eq!(update(&mut admitted), 1);
}
