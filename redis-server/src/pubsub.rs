//! Pub/sub: who subscribes to which channel, pattern and shard channel, and delivering
//! messages to them.
//!
//! A message for another client travels through that client's push channel (the same one
//! MONITOR lines use) and its task writes it; bytes waiting there count against the client's
//! `client-output-buffer-limit` class, and a client over its limit is disconnected rather than
//! buffered without bound. A message for the client running the command (a RESP3 client that
//! publishes to itself, or is told of its own write by a keyspace notification) goes straight
//! into its reply buffer, ahead of the command's reply, as Redis orders it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use common::resp::{Protocol, ReplyBuffer};

use crate::connection::ClientInfo;
use crate::server::Server;

/// Clients in subscription order.
type Subscribers = Vec<Arc<ClientInfo>>;
/// Channels (or shard channels) to their subscribers.
type ChannelMap = HashMap<Box<[u8]>, Subscribers>;

#[derive(Default)]
struct Subscriptions {
    channels: ChannelMap,
    shard_channels: ChannelMap,
    /// Patterns in first-subscription order, each with its subscribers.
    patterns: Vec<(Box<[u8]>, Subscribers)>,
}

/// Which namespace a channel lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelKind {
    /// SUBSCRIBE / PUBLISH.
    Global,
    /// SSUBSCRIBE / SPUBLISH.
    Shard,
}

/// The server's pub/sub registry.
#[derive(Default)]
pub(crate) struct PubSub {
    subs: Mutex<Subscriptions>,
}

/// The client running the current command: messages for it go into its own reply buffer.
pub(crate) struct SelfSink<'a> {
    pub id: u64,
    pub reply: &'a mut ReplyBuffer,
    /// CLIENT REPLY OFF/SKIP drops the command's reply, but never pub/sub traffic: then the
    /// client's messages take its push channel instead.
    pub suppressed: bool,
}

impl<'a> SelfSink<'a> {
    pub(crate) fn of(client: &crate::connection::Client, reply: &'a mut ReplyBuffer) -> Self {
        SelfSink {
            id: client.info.id,
            reply,
            suppressed: client.replies_suppressed(),
        }
    }
}

impl PubSub {
    fn subs(&self) -> std::sync::MutexGuard<'_, Subscriptions> {
        self.subs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `client` to `channel`; false when it already was.
    pub(crate) fn subscribe(
        &self,
        kind: ChannelKind,
        channel: &[u8],
        client: &Arc<ClientInfo>,
    ) -> bool {
        let mut subs = self.subs();
        let map = match kind {
            ChannelKind::Global => &mut subs.channels,
            ChannelKind::Shard => &mut subs.shard_channels,
        };
        let list = map.entry(channel.into()).or_default();
        if list.iter().any(|c| c.id == client.id) {
            return false;
        }
        list.push(client.clone());
        true
    }

    /// Removes client `id` from `channel`; false when it was not subscribed.
    pub(crate) fn unsubscribe(&self, kind: ChannelKind, channel: &[u8], id: u64) -> bool {
        let mut subs = self.subs();
        let map = match kind {
            ChannelKind::Global => &mut subs.channels,
            ChannelKind::Shard => &mut subs.shard_channels,
        };
        let Some(list) = map.get_mut(channel) else {
            return false;
        };
        let before = list.len();
        list.retain(|c| c.id != id);
        let removed = list.len() < before;
        if list.is_empty() {
            map.remove(channel);
        }
        removed
    }

    /// Everything client `id` subscribes to, each with whether it is a pattern (ACL checks
    /// when a user's channel rules narrow).
    pub(crate) fn subscriptions_of(&self, id: u64) -> Vec<(Box<[u8]>, bool)> {
        let subs = self.subs();
        let mut out = Vec::new();
        for map in [&subs.channels, &subs.shard_channels] {
            for (channel, list) in map.iter() {
                if list.iter().any(|c| c.id == id) {
                    out.push((channel.clone(), false));
                }
            }
        }
        for (pattern, list) in &subs.patterns {
            if list.iter().any(|c| c.id == id) {
                out.push((pattern.clone(), true));
            }
        }
        out
    }

    pub(crate) fn psubscribe(&self, pattern: &[u8], client: &Arc<ClientInfo>) -> bool {
        let mut subs = self.subs();
        match subs.patterns.iter_mut().find(|(p, _)| &**p == pattern) {
            Some((_, list)) => {
                if list.iter().any(|c| c.id == client.id) {
                    return false;
                }
                list.push(client.clone());
            }
            None => subs.patterns.push((pattern.into(), vec![client.clone()])),
        }
        true
    }

    pub(crate) fn punsubscribe(&self, pattern: &[u8], id: u64) -> bool {
        let mut subs = self.subs();
        let Some(pos) = subs.patterns.iter().position(|(p, _)| &**p == pattern) else {
            return false;
        };
        let list = &mut subs.patterns[pos].1;
        let before = list.len();
        list.retain(|c| c.id != id);
        let removed = list.len() < before;
        if list.is_empty() {
            subs.patterns.remove(pos);
        }
        removed
    }

    /// Delivers `message` on `channel` to its subscribers (and, for global channels, to every
    /// matching pattern's); returns how many received it.
    pub(crate) fn publish(
        &self,
        server: &Server,
        kind: ChannelKind,
        channel: &[u8],
        message: &[u8],
        mut sink: Option<&mut SelfSink<'_>>,
    ) -> usize {
        let subs = self.subs();
        let mut receivers = 0;
        let direct = match kind {
            ChannelKind::Global => subs.channels.get(channel),
            ChannelKind::Shard => subs.shard_channels.get(channel),
        };
        if let Some(list) = direct {
            let kind_word: &[u8] = match kind {
                ChannelKind::Global => b"message",
                ChannelKind::Shard => b"smessage",
            };
            let mut frames = Frames::new(|p| message_frame(p, kind_word, None, channel, message));
            for client in list {
                deliver(server, client, &mut frames, sink.as_deref_mut());
                receivers += 1;
            }
        }
        if kind == ChannelKind::Global {
            for (pattern, list) in &subs.patterns {
                if !common::glob::glob_match(pattern, channel, false) {
                    continue;
                }
                let mut frames =
                    Frames::new(|p| message_frame(p, b"pmessage", Some(pattern), channel, message));
                for client in list {
                    deliver(server, client, &mut frames, sink.as_deref_mut());
                    receivers += 1;
                }
            }
        }
        receivers
    }

    /// Active channels (or shard channels) matching `pattern` (all when `None`).
    pub(crate) fn channels(&self, kind: ChannelKind, pattern: Option<&[u8]>) -> Vec<Box<[u8]>> {
        let subs = self.subs();
        let map = match kind {
            ChannelKind::Global => &subs.channels,
            ChannelKind::Shard => &subs.shard_channels,
        };
        map.keys()
            .filter(|c| pattern.is_none_or(|p| common::glob::glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of `channel`, patterns not counted.
    pub(crate) fn numsub(&self, kind: ChannelKind, channel: &[u8]) -> usize {
        let subs = self.subs();
        let map = match kind {
            ChannelKind::Global => &subs.channels,
            ChannelKind::Shard => &subs.shard_channels,
        };
        map.get(channel).map_or(0, Vec::len)
    }

    /// (channels, patterns, shard channels) with at least one subscriber (INFO stats).
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        let subs = self.subs();
        (
            subs.channels.len(),
            subs.patterns.len(),
            subs.shard_channels.len(),
        )
    }
}

/// A message encoded once per protocol, on first need.
struct Frames<F: Fn(Protocol) -> Vec<u8>> {
    build: F,
    resp2: Option<Vec<u8>>,
    resp3: Option<Vec<u8>>,
}

impl<F: Fn(Protocol) -> Vec<u8>> Frames<F> {
    fn new(build: F) -> Self {
        Frames {
            build,
            resp2: None,
            resp3: None,
        }
    }

    fn get(&mut self, protocol: Protocol) -> &[u8] {
        let slot = match protocol {
            Protocol::Resp2 => &mut self.resp2,
            Protocol::Resp3 => &mut self.resp3,
        };
        slot.get_or_insert_with(|| (self.build)(protocol))
    }
}

fn deliver<F: Fn(Protocol) -> Vec<u8>>(
    server: &Server,
    client: &ClientInfo,
    frames: &mut Frames<F>,
    sink: Option<&mut SelfSink<'_>>,
) {
    let protocol = client.protocol();
    match sink {
        Some(sink) if sink.id == client.id && !sink.suppressed => {
            sink.reply.extend_raw(frames.get(protocol))
        }
        _ => {
            client.push_limited(server, frames.get(protocol).to_vec());
        }
    }
}

/// `message`/`smessage` (3 elements) or `pmessage` (4) as an array (RESP2) or push (RESP3).
fn message_frame(
    protocol: Protocol,
    kind: &[u8],
    pattern: Option<&[u8]>,
    channel: &[u8],
    message: &[u8],
) -> Vec<u8> {
    let mut out = ReplyBuffer::new(protocol);
    let len = if pattern.is_some() { 4 } else { 3 };
    out.push(len);
    out.bulk(kind);
    if let Some(p) = pattern {
        out.bulk(p);
    }
    out.bulk(channel);
    out.bulk(message);
    out.take()
}
