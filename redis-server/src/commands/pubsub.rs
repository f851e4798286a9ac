//! Group `pubsub`: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE,
//! PUBLISH, SPUBLISH and PUBSUB's introspection. The registry and message delivery live in
//! crate::pubsub; this file keeps each client's own record in step with it and writes the
//! confirmations.

use std::sync::atomic::Ordering::Relaxed;

use crate::connection::{ClientKind, Subscriptions};
use crate::pubsub::{ChannelKind, SelfSink};

use super::{CommandContext, CommandError, Registry, reply_help};

pub(super) fn register(r: &mut Registry) {
    r.add("subscribe", subscribe);
    r.add("unsubscribe", unsubscribe);
    r.add("psubscribe", psubscribe);
    r.add("punsubscribe", punsubscribe);
    r.add("ssubscribe", ssubscribe);
    r.add("sunsubscribe", sunsubscribe);
    r.add("publish", publish);
    r.add("spublish", spublish);
    r.add_sub("pubsub", "channels", pubsub_channels);
    r.add_sub("pubsub", "shardchannels", pubsub_shardchannels);
    r.add_sub("pubsub", "numsub", pubsub_numsub);
    r.add_sub("pubsub", "shardnumsub", pubsub_shardnumsub);
    r.add_sub("pubsub", "numpat", pubsub_numpat);
    r.add_sub("pubsub", "help", pubsub_help);
}

/// The three kinds of subscription a client holds, indexing `ClientInfo::subscriptions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sub {
    Channel = 0,
    Pattern = 1,
    Shard = 2,
}

impl Sub {
    fn confirm_word(self, subscribing: bool) -> &'static [u8] {
        match (self, subscribing) {
            (Sub::Channel, true) => b"subscribe",
            (Sub::Channel, false) => b"unsubscribe",
            (Sub::Pattern, true) => b"psubscribe",
            (Sub::Pattern, false) => b"punsubscribe",
            (Sub::Shard, true) => b"ssubscribe",
            (Sub::Shard, false) => b"sunsubscribe",
        }
    }
}

fn subs_of<'c>(ctx: &'c mut CommandContext<'_>) -> &'c mut Subscriptions {
    ctx.client.subscriptions.get_or_insert_with(Box::default)
}

/// The count a confirmation carries: channels + patterns, or shard channels alone.
fn count(ctx: &CommandContext<'_>, sub: Sub) -> i64 {
    let n = &ctx.client.info.subscriptions;
    let v = match sub {
        Sub::Shard => n[Sub::Shard as usize].load(Relaxed),
        _ => n[Sub::Channel as usize].load(Relaxed) + n[Sub::Pattern as usize].load(Relaxed),
    };
    v as i64
}

fn confirm(ctx: &mut CommandContext<'_>, sub: Sub, subscribing: bool, name: Option<&[u8]>) {
    let n = count(ctx, sub);
    let write = |out: &mut common::resp::ReplyBuffer| {
        out.push(3);
        out.bulk(sub.confirm_word(subscribing));
        match name {
            Some(name) => out.bulk(name),
            None => out.null(),
        }
        out.integer(n);
    };
    if ctx.client.replies_suppressed() {
        // Confirmations are pushes: CLIENT REPLY OFF does not silence them.
        let mut out = common::resp::ReplyBuffer::new(ctx.client.protocol);
        write(&mut out);
        ctx.client.info.push_limited(ctx.server, out.take());
    } else {
        write(ctx.reply);
    }
}

/// Keeps the `P` flag and the output-buffer class in step with the subscription counts.
fn update_kind(ctx: &mut CommandContext<'_>) {
    let subscribed = ctx.client.info.is_subscriber();
    let mut details = ctx.client.info.details();
    match (details.kind, subscribed) {
        (ClientKind::Normal, true) => details.kind = ClientKind::Pubsub,
        (ClientKind::Pubsub, false) => details.kind = ClientKind::Normal,
        _ => {}
    }
}

fn add(ctx: &mut CommandContext<'_>, sub: Sub, name: &[u8]) {
    let info = ctx.client.info.clone();
    let added = match sub {
        Sub::Channel => ctx
            .server
            .pubsub
            .subscribe(ChannelKind::Global, name, &info),
        Sub::Shard => ctx.server.pubsub.subscribe(ChannelKind::Shard, name, &info),
        Sub::Pattern => ctx.server.pubsub.psubscribe(name, &info),
    };
    if added {
        let subs = subs_of(ctx);
        match sub {
            Sub::Channel => subs.channels.insert(name.into()),
            Sub::Shard => subs.shard_channels.insert(name.into()),
            Sub::Pattern => {
                subs.patterns.push(name.into());
                true
            }
        };
        info.subscriptions[sub as usize].fetch_add(1, Relaxed);
    }
    confirm(ctx, sub, true, Some(name));
}

fn remove(ctx: &mut CommandContext<'_>, sub: Sub, name: &[u8]) {
    let id = ctx.client.info.id;
    let removed = match sub {
        Sub::Channel => ctx.server.pubsub.unsubscribe(ChannelKind::Global, name, id),
        Sub::Shard => ctx.server.pubsub.unsubscribe(ChannelKind::Shard, name, id),
        Sub::Pattern => ctx.server.pubsub.punsubscribe(name, id),
    };
    if removed {
        let subs = subs_of(ctx);
        match sub {
            Sub::Channel => {
                subs.channels.remove(name);
            }
            Sub::Shard => {
                subs.shard_channels.remove(name);
            }
            Sub::Pattern => subs.patterns.retain(|p| &**p != name),
        }
        ctx.client.info.subscriptions[sub as usize].fetch_sub(1, Relaxed);
    }
    confirm(ctx, sub, false, Some(name));
}

fn subscribe_generic(ctx: &mut CommandContext<'_>, sub: Sub) -> Result<(), CommandError> {
    while let Some(name) = ctx.args.next_opt() {
        add(ctx, sub, name);
    }
    update_kind(ctx);
    Ok(())
}

fn unsubscribe_generic(ctx: &mut CommandContext<'_>, sub: Sub) -> Result<(), CommandError> {
    if ctx.args.is_empty() {
        let names: Vec<Box<[u8]>> = match &ctx.client.subscriptions {
            None => Vec::new(),
            Some(subs) => match sub {
                Sub::Channel => subs.channels.iter().cloned().collect(),
                Sub::Shard => subs.shard_channels.iter().cloned().collect(),
                Sub::Pattern => subs.patterns.clone(),
            },
        };
        if names.is_empty() {
            confirm(ctx, sub, false, None);
        }
        for name in &names {
            remove(ctx, sub, name);
        }
    } else {
        while let Some(name) = ctx.args.next_opt() {
            remove(ctx, sub, name);
        }
    }
    update_kind(ctx);
    Ok(())
}

fn subscribe(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    subscribe_generic(ctx, Sub::Channel)
}

fn unsubscribe(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    unsubscribe_generic(ctx, Sub::Channel)
}

fn psubscribe(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    subscribe_generic(ctx, Sub::Pattern)
}

fn punsubscribe(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    unsubscribe_generic(ctx, Sub::Pattern)
}

fn ssubscribe(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    // Redis refuses it to clients that expect one reply per command (inside MULTI).
    if ctx.client.in_exec {
        return Err(CommandError::err(
            "SSUBSCRIBE isn't allowed for a DENY BLOCKING client",
        ));
    }
    subscribe_generic(ctx, Sub::Shard)
}

fn sunsubscribe(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    unsubscribe_generic(ctx, Sub::Shard)
}

fn publish_generic(ctx: &mut CommandContext<'_>, kind: ChannelKind) -> Result<(), CommandError> {
    let channel = ctx.args.next_bytes()?;
    let message = ctx.args.next_bytes()?;
    let mut sink = SelfSink::of(ctx.client, ctx.reply);
    let receivers = ctx
        .server
        .pubsub
        .publish(ctx.server, kind, channel, message, Some(&mut sink));
    ctx.reply.integer(receivers as i64);
    // Replicas relay messages to their own subscribers; the AOF has no use for them.
    ctx.force_propagation(crate::propagate::Targets::REPL);
    Ok(())
}

fn publish(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    publish_generic(ctx, ChannelKind::Global)
}

fn spublish(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    publish_generic(ctx, ChannelKind::Shard)
}

fn channels_generic(ctx: &mut CommandContext<'_>, kind: ChannelKind) -> Result<(), CommandError> {
    let pattern = ctx.args.next_opt();
    if !ctx.args.is_empty() {
        return Err(subcommand_syntax(ctx));
    }
    let channels = ctx.server.pubsub.channels(kind, pattern);
    ctx.reply.array(channels.len());
    for c in &channels {
        ctx.reply.bulk(c);
    }
    Ok(())
}

fn numsub_generic(ctx: &mut CommandContext<'_>, kind: ChannelKind) -> Result<(), CommandError> {
    ctx.reply.map(ctx.args.remaining());
    while let Some(channel) = ctx.args.next_opt() {
        ctx.reply.bulk(channel);
        ctx.reply
            .integer(ctx.server.pubsub.numsub(kind, channel) as i64);
    }
    Ok(())
}

/// Redis's reply to a PUBSUB subcommand given the wrong number of arguments.
fn subcommand_syntax(ctx: &CommandContext<'_>) -> CommandError {
    CommandError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
        String::from_utf8_lossy(ctx.args.get(1).unwrap_or_default())
    ))
}

fn pubsub_channels(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    channels_generic(ctx, ChannelKind::Global)
}

fn pubsub_shardchannels(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    channels_generic(ctx, ChannelKind::Shard)
}

fn pubsub_numsub(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    numsub_generic(ctx, ChannelKind::Global)
}

fn pubsub_shardnumsub(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    numsub_generic(ctx, ChannelKind::Shard)
}

fn pubsub_numpat(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let (_, patterns, _) = ctx.server.pubsub.counts();
    ctx.reply.integer(patterns as i64);
    Ok(())
}

const PUBSUB_HELP: &[&str] = &[
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
];

fn pubsub_help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    reply_help(ctx, PUBSUB_HELP);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn subscribers_receive_published_messages_in_their_protocol() {
        let mut sub = TestClient::new();
        let mut sub3 = TestClient::connect(&sub.server);
        let mut publisher = TestClient::connect(&sub.server);
        assert_eq!(
            sub.text(&["SUBSCRIBE", "a", "b"]),
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
        );
        sub3.run(&["HELLO", "3"]);
        assert_eq!(
            sub3.text(&["PSUBSCRIBE", "a*"]),
            ">3\r\n$10\r\npsubscribe\r\n$2\r\na*\r\n:1\r\n"
        );
        assert_eq!(publisher.text(&["PUBLISH", "a", "hi"]), ":2\r\n");
        assert_eq!(
            sub.pushed(),
            "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n"
        );
        assert_eq!(
            sub3.pushed(),
            ">4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$2\r\nhi\r\n"
        );
        assert_eq!(publisher.text(&["PUBLISH", "zz", "hi"]), ":0\r\n");
        assert_eq!(
            publisher.text(&["PUBSUB", "NUMSUB", "a", "b", "c"]),
            "*6\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:1\r\n$1\r\nc\r\n:0\r\n"
        );
        assert_eq!(publisher.text(&["PUBSUB", "NUMPAT"]), ":1\r\n");
    }

    #[test]
    fn resp2_subscribers_are_limited_to_subscription_commands() {
        let mut c = TestClient::new();
        c.run(&["SUBSCRIBE", "a"]);
        assert_eq!(
            c.text(&["GET", "k"]),
            "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
        );
        assert_eq!(c.text(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
        assert_eq!(
            c.text(&["UNSUBSCRIBE"]),
            "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"
        );
        assert_eq!(
            c.text(&["UNSUBSCRIBE"]),
            "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
        );
        assert_eq!(c.text(&["GET", "k"]), "$-1\r\n");
    }

    #[test]
    fn a_resp3_client_publishing_to_itself_gets_the_message_before_the_reply() {
        let mut c = TestClient::new();
        c.run(&["HELLO", "3"]);
        c.run(&["SUBSCRIBE", "me"]);
        assert_eq!(
            c.text(&["PUBLISH", "me", "x"]),
            ">3\r\n$7\r\nmessage\r\n$2\r\nme\r\n$1\r\nx\r\n:1\r\n"
        );
    }

    #[test]
    fn a_subscriber_over_its_output_limit_is_disconnected_not_buffered() {
        let mut sub = TestClient::with_config(&[("client-output-buffer-limit", "pubsub 1000 0 0")]);
        let mut publisher = TestClient::connect(&sub.server);
        sub.run(&["SUBSCRIBE", "ch"]);
        let big = "x".repeat(300);
        for _ in 0..10 {
            publisher.run(&["PUBLISH", "ch", &big]);
        }
        assert!(sub.client.info.is_killed());
        let pending = sub
            .client
            .info
            .output_memory
            .load(std::sync::atomic::Ordering::Relaxed);
        assert!(pending < 1000, "{pending}");
    }

    #[test]
    fn keyspace_notifications_follow_the_configured_classes() {
        let mut sub = TestClient::with_config(&[("notify-keyspace-events", "KEA")]);
        let mut c = TestClient::connect(&sub.server);
        sub.run(&["PSUBSCRIBE", "__key*__:*"]);
        c.run(&["SET", "foo", "bar"]);
        assert_eq!(
            sub.pushed(),
            "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$18\r\n__keyspace@0__:foo\r\n$3\r\nset\r\n\
             *4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$18\r\n__keyevent@0__:set\r\n$3\r\nfoo\r\n"
        );
        c.run(&["CONFIG", "SET", "notify-keyspace-events", "Kl"]);
        c.run(&["SET", "foo", "bar"]);
        assert_eq!(sub.pushed(), "");
    }

    #[test]
    fn client_reply_off_does_not_silence_pubsub_traffic() {
        let mut c = TestClient::new();
        c.run(&["HELLO", "3"]);
        c.run(&["CLIENT", "REPLY", "OFF"]);
        assert_eq!(c.text(&["SUBSCRIBE", "ch"]), "");
        assert_eq!(c.pushed(), ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
        assert_eq!(c.text(&["PUBLISH", "ch", "m"]), "");
        assert_eq!(c.pushed(), ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n");
    }

    #[test]
    fn new_key_events_come_only_for_created_keys_before_the_write_event() {
        let mut sub = TestClient::with_config(&[("notify-keyspace-events", "En$")]);
        let mut c = TestClient::connect(&sub.server);
        sub.run(&["PSUBSCRIBE", "*"]);
        c.run(&["SET", "foo", "bar"]);
        c.run(&["SET", "foo", "baz"]);
        let pushed = sub.pushed();
        let events: Vec<&str> = pushed
            .split("\r\n")
            .filter(|l| l.starts_with("__keyevent"))
            .collect();
        assert_eq!(
            events,
            [
                "__keyevent@0__:new",
                "__keyevent@0__:set",
                "__keyevent@0__:set"
            ]
        );
    }
}
