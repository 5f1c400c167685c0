//! A packed pipeline run on a Redis Cluster: split into its commands,
//! grouped per node by the cluster pipeline, answers back in order.

use redis::cluster::{cluster_pipe, ClusterConnection};
use redis::{Cmd, ConnectionLike, ErrorKind, RedisError, RedisResult, Value};

/// Commands the cluster pipeline refuses (keys in several slots, or no
/// key; the redis crate's own list, by first word, and `EXISTS`/`UNLINK`,
/// which take several keys): run on their own, where the cluster client
/// routes them itself. (`MGET` and `DEL` never get here: [`spread`] turns
/// them into one command per key first.)
fn alone(name: &[u8]) -> bool {
    const ALONE: &[&str] = &[
        "BGREWRITEAOF",
        "BGSAVE",
        "BITOP",
        "BRPOPLPUSH",
        "CLIENT",
        "CONFIG",
        "DBSIZE",
        "ECHO",
        "EXISTS",
        "FLUSHALL",
        "FLUSHDB",
        "INFO",
        "KEYS",
        "LASTSAVE",
        "MOVE",
        "MSET",
        "MSETEX",
        "MSETNX",
        "PING",
        "PUBLISH",
        "RANDOMKEY",
        "RENAME",
        "RENAMENX",
        "RPOPLPUSH",
        "SAVE",
        "SCAN",
        "SCRIPT",
        "SDIFF",
        "SDIFFSTORE",
        "SENTINEL",
        "SHUTDOWN",
        "SINTER",
        "SINTERSTORE",
        "SLAVEOF",
        "SLOWLOG",
        "SMOVE",
        "SORT",
        "SUNION",
        "SUNIONSTORE",
        "TIME",
        "UNLINK",
    ];
    ALONE
        .iter()
        .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
}

/// A multi-key `MGET` or `DEL` as one command per key, and how to put the
/// answers back together; `None` for any other command.
///
/// The cluster client runs a multi-key command as one command per slot,
/// one round trip after another: an `MGET` of a batch's 400 keys was 400
/// sequential round trips. Sent as single-key commands through the
/// cluster pipeline they cost one round trip per node instead.
fn spread(cmd: &Cmd) -> Option<(Vec<Cmd>, Join)> {
    let mut args = cmd.args_iter().filter_map(|a| match a {
        redis::Arg::Simple(bytes) => Some(bytes),
        _ => None,
    });
    let name = args.next()?;
    let how = if name.eq_ignore_ascii_case(b"MGET") {
        Join::Array
    } else if name.eq_ignore_ascii_case(b"DEL") {
        Join::Sum
    } else {
        return None;
    };
    let single = if how == Join::Array { "GET" } else { "DEL" };
    let cmds: Vec<Cmd> = args
        .map(|key| {
            let mut c = redis::cmd(single);
            c.arg(key);
            c
        })
        .collect();
    (!cmds.is_empty()).then_some((cmds, how))
}

/// How the answers of a spread command make its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    /// `MGET`: the values, in key order.
    Array,
    /// `DEL`: how many keys went.
    Sum,
}

fn join(how: Join, values: Vec<Value>) -> Value {
    match how {
        Join::Array => Value::Array(values),
        Join::Sum => Value::Int(
            values
                .iter()
                .map(|v| if let Value::Int(n) = v { *n } else { 0 })
                .sum(),
        ),
    }
}

/// Runs one command on a cluster, an `MGET`/`DEL` spread over the nodes.
pub fn run_command(conn: &mut ClusterConnection, cmd: &Cmd) -> RedisResult<Value> {
    match spread(cmd) {
        Some((cmds, how)) => {
            let mut batch = cluster_pipe();
            for c in cmds {
                batch.add_command(c);
            }
            let values: Vec<Value> = batch.query(conn)?;
            Ok(join(how, values))
        }
        None => conn.req_command(cmd),
    }
}

/// Runs one packed command (what `Cmd::query` sends).
pub fn run_packed(conn: &mut ClusterConnection, packed: &[u8]) -> RedisResult<Value> {
    let cmd = unpack(packed, 1)?
        .pop()
        .expect("unpack gave the one command asked for");
    run_command(conn, &cmd)
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

/// Commands queued for one cluster pipeline, and for each command of the
/// caller's pipeline where its answers will be.
#[derive(Default)]
struct Batch {
    pipe: redis::cluster::ClusterPipeline,
    /// (command index, first answer, answers, how they join).
    slots: Vec<(usize, usize, usize, Option<Join>)>,
    queued: usize,
}

impl Batch {
    fn add(&mut self, index: usize, parts: Vec<Cmd>, how: Option<Join>) {
        self.slots.push((index, self.queued, parts.len(), how));
        self.queued += parts.len();
        for part in parts {
            self.pipe.add_command(part);
        }
    }

    /// Sends what is queued (one round trip per node) and files the
    /// answers; empty afterwards.
    fn run(
        &mut self,
        conn: &mut ClusterConnection,
        answers: &mut [Option<Value>],
    ) -> RedisResult<()> {
        if self.queued == 0 {
            return Ok(());
        }
        let mut values: Vec<Value> = self.pipe.query(conn)?;
        if values.len() != self.queued {
            return Err(RedisError::from((
                ErrorKind::Client,
                "the cluster answered a pipeline with the wrong number of replies",
            )));
        }
        // Taken from the back, so each command's slice is still in place.
        for (i, start, n, how) in self.slots.drain(..).rev() {
            let mine: Vec<Value> = values.drain(start..start + n).collect();
            answers[i] = Some(match how {
                Some(how) => join(how, mine),
                None => mine.into_iter().next().unwrap_or(Value::Nil),
            });
        }
        *self = Batch::default();
        Ok(())
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
    let mut batch = Batch::default();
    for (i, cmd) in cmds.iter().enumerate() {
        if let Some((parts, how)) = spread(cmd) {
            batch.add(i, parts, Some(how));
        } else if alone(name_of(cmd)) {
            // What came before it runs first: a pipeline's commands run
            // in order.
            batch.run(conn, &mut answers)?;
            answers[i] = Some(conn.req_command(cmd)?);
        } else {
            batch.add(i, vec![cmd.clone()], None);
        }
    }
    batch.run(conn, &mut answers)?;
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
        assert!(!alone(name_of(&cmds[1])));
        let (parts, how) = spread(&cmds[2]).unwrap();
        assert_eq!((parts.len(), how), (2, Join::Array));
        assert_eq!(
            parts[1].get_packed_command(),
            redis::cmd("GET").arg("b").get_packed_command()
        );
        assert!(spread(&cmds[0]).is_none());
        assert_eq!(
            join(Join::Sum, vec![Value::Int(1), Value::Int(0), Value::Int(1)]),
            Value::Int(2)
        );
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
