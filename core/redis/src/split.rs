//! A packed pipeline run on a Redis Cluster: split into its commands,
//! grouped per node by the cluster pipeline, answers back in order.

use redis::cluster::{cluster_pipe, ClusterConnection};
use redis::{Cmd, ConnectionLike, ErrorKind, RedisError, RedisResult, Value};

/// Commands the cluster pipeline refuses (keys in several slots, or no
/// key): run on their own, where the cluster client splits them itself.
fn alone(name: &[u8]) -> bool {
    const ALONE: &[&str] = &[
        "MGET", "MSET", "DEL", "UNLINK", "EXISTS", "INFO", "PING", "TIME",
    ];
    ALONE
        .iter()
        .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
}

/// The `n` commands of a packed pipeline (each an array of bulk strings).
fn unpack(packed: &[u8], n: usize) -> RedisResult<Vec<Cmd>> {
    if packed.starts_with(b"*1\r\n$5\r\nMULTI\r\n") {
        return Err(RedisError::from((
            ErrorKind::Client,
            "a transaction cannot span a cluster's nodes",
        )));
    }
    // The parser reads ahead: it is given the whole buffer once and asked
    // for one value at a time.
    let mut parser = redis::Parser::new();
    let mut rest = packed;
    let mut cmds = Vec::with_capacity(n);
    for _ in 0..n {
        let Value::Array(parts) = parser.parse_value(&mut rest)? else {
            return Err(RedisError::from((
                ErrorKind::Client,
                "a packed pipeline holds something other than commands",
            )));
        };
        let mut cmd = Cmd::new();
        for part in parts {
            match part {
                Value::BulkString(bytes) => cmd.arg(bytes),
                _ => {
                    return Err(RedisError::from((
                        ErrorKind::Client,
                        "a packed command has a part that is not a string",
                    )))
                }
            };
        }
        cmds.push(cmd);
    }
    Ok(cmds)
}

fn name_of(cmd: &Cmd) -> &[u8] {
    match cmd.args_iter().next() {
        Some(redis::Arg::Simple(name)) => name,
        _ => b"",
    }
}

/// Runs the pipeline `packed` on `conn` and returns answers
/// `offset..offset + count`, as a server's connection would.
pub fn run_pipeline(
    conn: &mut ClusterConnection,
    packed: &[u8],
    offset: usize,
    count: usize,
) -> RedisResult<Vec<Value>> {
    // Outside a transaction a pipeline's answers are all its commands'.
    let cmds = unpack(packed, offset + count)?;
    let mut answers: Vec<Option<Value>> = vec![None; cmds.len()];
    let mut batch = cluster_pipe();
    let mut in_batch = Vec::new();
    for (i, cmd) in cmds.iter().enumerate() {
        if alone(name_of(cmd)) {
            answers[i] = Some(conn.req_command(cmd)?);
        } else {
            batch.add_command(cmd.clone());
            in_batch.push(i);
        }
    }
    if !in_batch.is_empty() {
        let values: Vec<Value> = batch.query(conn)?;
        if values.len() != in_batch.len() {
            return Err(RedisError::from((
                ErrorKind::Client,
                "the cluster answered a pipeline with the wrong number of replies",
            )));
        }
        for (i, v) in in_batch.into_iter().zip(values) {
            answers[i] = Some(v);
        }
    }
    let answers: Vec<Value> = answers
        .into_iter()
        .map(|a| a.unwrap_or(Value::Nil))
        .collect();
    answers
        .into_iter()
        .skip(offset)
        .take(count)
        .map(Ok)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_pipeline_comes_apart_into_its_commands() {
        let mut p = redis::pipe();
        p.set("a", "1").incr("b", 2).cmd("MGET").arg("a").arg("b");
        let cmds = unpack(&p.get_packed_pipeline(), 3).unwrap();
        assert_eq!(cmds.len(), 3);
        assert_eq!(
            cmds[0].get_packed_command(),
            redis::cmd("SET").arg("a").arg("1").get_packed_command()
        );
        assert_eq!(name_of(&cmds[2]), b"MGET");
        assert!(alone(name_of(&cmds[2])) && !alone(name_of(&cmds[1])));
        // Asked for more commands than there are: an error.
        assert!(unpack(&p.get_packed_pipeline(), 4).is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b"+OK\r\n"[..],
            b"*1\r\n:5\r\n",
            b"*2\r\n$1\r\na",
            b"\xff\x00",
        ] {
            assert!(unpack(bytes, 1).is_err(), "{bytes:?}");
            assert!(unpack(bytes, 2).is_err(), "{bytes:?}");
        }
    }
}
