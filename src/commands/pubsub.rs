//! Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and
//! PUBSUB introspection. Subscriptions live in the process-wide registry
//! (`shard/pubsub.rs`); the connection side is `server/subscriber.rs`.

use super::{cmd, run_subcommand, Command, Exec::*, Subcommand};
use crate::protocol::Reply;
use crate::server::client::Client;
use crate::server::subscriber;
use crate::shard::pubsub::Kind;

const SUB_FLAGS: &str = "pubsub noscript loading stale";
const PUB_FLAGS: &str = "pubsub loading stale fast";

/// The Pub/Sub family.
pub static COMMANDS: &[Command] = &[
    cmd(
        "subscribe",
        -2,
        SUB_FLAGS,
        (0, 0, 0),
        "pubsub",
        Conn(|c, a| subscriber::subscribe(c, Kind::Channel, &a[1..])),
    ),
    cmd(
        "psubscribe",
        -2,
        SUB_FLAGS,
        (0, 0, 0),
        "pubsub",
        Conn(|c, a| subscriber::subscribe(c, Kind::Pattern, &a[1..])),
    ),
    cmd(
        "ssubscribe",
        -2,
        SUB_FLAGS,
        (1, -1, 1),
        "pubsub",
        Conn(|c, a| subscriber::subscribe(c, Kind::Shard, &a[1..])),
    ),
    cmd(
        "unsubscribe",
        -1,
        SUB_FLAGS,
        (0, 0, 0),
        "pubsub",
        Conn(|c, a| subscriber::unsubscribe(c, Kind::Channel, &a[1..])),
    ),
    cmd(
        "punsubscribe",
        -1,
        SUB_FLAGS,
        (0, 0, 0),
        "pubsub",
        Conn(|c, a| subscriber::unsubscribe(c, Kind::Pattern, &a[1..])),
    ),
    cmd(
        "sunsubscribe",
        -1,
        SUB_FLAGS,
        (1, -1, 1),
        "pubsub",
        Conn(|c, a| subscriber::unsubscribe(c, Kind::Shard, &a[1..])),
    ),
    cmd(
        "publish",
        3,
        PUB_FLAGS,
        (0, 0, 0),
        "pubsub",
        Conn(|c, a| Reply::Int(c.server.pubsub.publish(&a[1], &a[2]))),
    ),
    cmd(
        "spublish",
        3,
        PUB_FLAGS,
        (1, 1, 1),
        "pubsub",
        Conn(|c, a| Reply::Int(c.server.pubsub.spublish(&a[1], &a[2]))),
    ),
    cmd(
        "pubsub",
        -2,
        "",
        (0, 0, 0),
        "pubsub",
        Conn(|c, a| run_subcommand(SUBCOMMANDS, c, a)),
    ),
];

/// PUBSUB's subcommands: (name, arity counting PUBSUB itself, handler).
static SUBCOMMANDS: &[Subcommand] = &[
    ("channels", -2, |c, a| names(c, a, Kind::Channel)),
    ("shardchannels", -2, |c, a| names(c, a, Kind::Shard)),
    ("numsub", -2, |c, a| numsub(c, a, Kind::Channel)),
    ("shardnumsub", -2, |c, a| numsub(c, a, Kind::Shard)),
    ("numpat", 2, |c, _| {
        Reply::Int(c.server.pubsub.count(Kind::Pattern) as i64)
    }),
    ("help", 2, |_, _| help()),
];

/// PUBSUB CHANNELS / SHARDCHANNELS [pattern].
fn names(c: &mut Client, a: &[Vec<u8>], kind: Kind) -> Reply {
    if a.len() > 3 {
        return Reply::err(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(&a[1])
        ));
    }
    Reply::bulks(c.server.pubsub.names(kind, a.get(2).map(Vec::as_slice)))
}

/// PUBSUB NUMSUB / SHARDNUMSUB channel…: channel, count pairs.
fn numsub(c: &mut Client, a: &[Vec<u8>], kind: Kind) -> Reply {
    Reply::Array(
        a[2..]
            .iter()
            .flat_map(|ch| {
                let n = c.server.pubsub.numsub(kind, ch) as i64;
                [Reply::bulk(ch), Reply::Int(n)]
            })
            .collect(),
    )
}

fn help() -> Reply {
    Reply::Array(
        [
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
            "HELP",
            "    Prints this help.",
        ]
        .iter()
        .map(|s| Reply::Simple(s.to_string()))
        .collect(),
    )
}
