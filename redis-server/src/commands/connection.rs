//! Group `connection`: PING, ECHO, SELECT, QUIT, RESET, AUTH, HELLO and the CLIENT
//! subcommands. No value type: these act on the calling connection or on other clients.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use common::command_table;
use common::number::parse_i64;
use common::resp::Protocol;

use super::args::is;
use super::{CommandContext, CommandError, Registry};
use crate::acl;
use crate::connection::{ClientInfo, ClientKind, ReplyMode};
use crate::server::{PauseKind, Server, unix_ms};

pub(super) fn register(r: &mut Registry) {
    r.add("ping", ping);
    r.add("echo", echo);
    r.add("select", select);
    r.add("quit", quit);
    r.add("reset", reset);
    r.add("auth", auth);
    r.add("hello", hello);
    r.add_sub("client", "id", client_id);
    r.add_sub("client", "getname", client_getname);
    r.add_sub("client", "setname", client_setname);
    r.add_sub("client", "info", client_info);
    r.add_sub("client", "list", client_list);
    r.add_sub("client", "kill", client_kill);
    r.add_sub("client", "reply", client_reply);
    r.add_sub("client", "no-evict", client_no_evict);
    r.add_sub("client", "pause", client_pause);
    r.add_sub("client", "unpause", client_unpause);
    r.add_sub("client", "unblock", client_unblock);
    r.add_sub("client", "help", client_help);
    r.add_sub("client", "tracking", client_tracking);
    r.add_sub("client", "caching", client_caching);
    r.add_sub("client", "getredir", client_getredir);
    r.add_sub("client", "trackinginfo", client_trackinginfo);
}

fn ping(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.args.remaining() > 1 {
        return Err(CommandError::WrongArity("ping".into()));
    }
    let msg = ctx.args.next_opt();
    // A subscribed RESP2 connection answers in the shape of a message.
    if ctx.client.protocol == Protocol::Resp2 && ctx.client.info.is_subscriber() {
        ctx.reply.array(2);
        ctx.reply.bulk(b"pong");
        ctx.reply.bulk(msg.unwrap_or_default());
        return Ok(());
    }
    match msg {
        None => ctx.reply.simple(b"PONG"),
        Some(msg) => ctx.reply.bulk(msg),
    }
    Ok(())
}

fn echo(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let msg = ctx.args.next_bytes()?;
    ctx.reply.bulk(msg);
    Ok(())
}

fn select(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let index = parse_i64(ctx.args.next_bytes()?).ok_or(CommandError::NotInteger)?;
    // Redis reads the index as a C int, with its range in the error.
    let index = i32::try_from(index).map_err(|_| {
        CommandError::err(format!(
            "value is out of range, value must between {} and {}",
            i32::MIN,
            i32::MAX
        ))
    })?;
    if index != 0 && ctx.server.config().get_bool("cluster-enabled") == Some(true) {
        return Err(CommandError::err("SELECT is not allowed in cluster mode"));
    }
    let index = usize::try_from(index).map_err(|_| CommandError::DbIndexOutOfRange)?;
    if index >= ctx.server.keyspace.databases() {
        return Err(CommandError::DbIndexOutOfRange);
    }
    ctx.client.select(index);
    ctx.reply.ok();
    Ok(())
}

fn quit(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ctx.reply.ok();
    ctx.client.close_after_reply = true;
    Ok(())
}

/// Returns the connection to the state of a fresh one: database 0, RESP2, replies on, no
/// name, out of MONITOR, and authenticated only if the default user needs no password.
/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends another client's blocking command now, with its
/// timeout reply or an UNBLOCKED error; replies 1 when a blocked client was found.
fn client_unblock(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let id = ctx.args.next_i64()?;
    let error = match ctx.args.next_opt() {
        None => false,
        Some(reason) if reason.eq_ignore_ascii_case(b"timeout") => false,
        Some(reason) if reason.eq_ignore_ascii_case(b"error") => true,
        Some(_) => {
            return Err(CommandError::err(
                "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ));
        }
    };
    let blocking = &ctx.server.blocking;
    let unblocked = u64::try_from(id)
        .ok()
        .and_then(|id| blocking.waiter_of(id))
        .is_some_and(|waiter| {
            let reply = if error {
                b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n".to_vec()
            } else {
                waiter.timeout_reply.clone()
            };
            let served = blocking.serve(&waiter, reply);
            if served {
                // The blocked command ends here: one call, failed when ended with an error.
                let code = error.then_some("UNBLOCKED");
                crate::dispatch::count_unblocked(ctx.server, &waiter.command, code);
            }
            served
        });
    ctx.reply.integer(i64::from(unblocked));
    Ok(())
}

fn reset(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let kind = ctx.client.info.details().kind;
    if matches!(kind, ClientKind::Replica | ClientKind::Master) {
        return Err(CommandError::err(
            "can only reset normal client connections",
        ));
    }
    if ctx.client.is_monitor || kind == ClientKind::Monitor {
        leave_monitor(ctx.server, ctx.client.id());
        ctx.client.is_monitor = false;
    }
    ctx.client.multi = None;
    ctx.client.info.multi_queued.store(-1, Relaxed);
    ctx.client.unwatch_all(ctx.server);
    ctx.client.unsubscribe_all(ctx.server);
    ctx.server.tracking.disable(ctx.client);
    ctx.client.select(0);
    ctx.client.set_protocol(Protocol::Resp2);
    ctx.reply.set_protocol(Protocol::Resp2);
    ctx.client.authenticated = ctx.server.acl.default_logs_in();
    ctx.client.info.details().user = Arc::from(b"default".as_slice());
    ctx.client.reply_mode = ReplyMode::On;
    {
        let mut details = ctx.client.info.details();
        details.name = None;
        if details.kind == ClientKind::Monitor {
            details.kind = ClientKind::Normal;
        }
    }
    ctx.reply.simple(b"RESET");
    Ok(())
}

fn leave_monitor(server: &Server, id: u64) {
    let mut monitors = server
        .monitors
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    monitors.retain(|m| m.id != id);
    server.has_monitors.store(!monitors.is_empty(), Relaxed);
}

/// `AUTH <password>` logs in as `default`; `AUTH <username> <password>` names the user.
fn auth(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let (user, pass) = match ctx.args.remaining() {
        1 => {
            if ctx.server.acl.user(b"default").is_none_or(|u| u.nopass()) {
                return Err(CommandError::err(
                    "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
                ));
            }
            (&b"default"[..], ctx.args.next_bytes()?)
        }
        2 => (ctx.args.next_bytes()?, ctx.args.next_bytes()?),
        _ => return Err(CommandError::Syntax),
    };
    authenticate(ctx, user, pass)?;
    ctx.reply.ok();
    Ok(())
}

/// Logs the client in as `user`, or answers WRONGPASS (leaving it as it was) and records
/// the attempt in the ACL log.
fn authenticate(
    ctx: &mut CommandContext<'_>,
    user: &[u8],
    pass: &[u8],
) -> Result<(), CommandError> {
    if !ctx.server.acl.credentials_ok(user, pass) {
        let context = if ctx.client.multi.is_some() {
            acl::Context::Multi
        } else {
            acl::Context::Toplevel
        };
        let object = ctx.args.list().get(0).unwrap_or_default();
        acl::log(
            ctx.server,
            ctx.client,
            acl::Reason::Auth,
            context,
            object,
            Some(user),
        );
        return Err(CommandError::WrongPass);
    }
    ctx.client.authenticated = true;
    ctx.client.info.details().user = Arc::from(user);
    Ok(())
}

/// `HELLO [protover [AUTH user pass] [SETNAME name]]`: options apply in order, so a name set
/// before a failing option stays set, as in Redis.
fn hello(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let mut version = None;
    if let Some(arg) = ctx.args.next_opt() {
        let v = parse_i64(arg).ok_or_else(|| {
            CommandError::err("Protocol version is not an integer or out of range")
        })?;
        version = Some(match v {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => {
                return Err(CommandError::Prefixed(
                    "NOPROTO",
                    "unsupported protocol version".into(),
                ));
            }
        });
    }
    while let Some(option) = ctx.args.next_opt() {
        let more = ctx.args.remaining();
        if is(option, "auth") && more >= 2 {
            let user = ctx.args.next_bytes()?;
            let pass = ctx.args.next_bytes()?;
            authenticate(ctx, user, pass)?;
        } else if is(option, "setname") && more >= 1 {
            let name = ctx.args.next_bytes()?;
            set_name(&ctx.client.info, name)?;
        } else {
            return Err(CommandError::err(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(option)
            )));
        }
    }
    if !ctx.client.authenticated {
        return Err(CommandError::Prefixed(
            "NOAUTH",
            "HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into(),
        ));
    }
    if let Some(protocol) = version {
        ctx.client.set_protocol(protocol);
        // The reply itself is already in the new protocol.
        ctx.reply.set_protocol(protocol);
    }
    let (mode, role) = {
        let config = ctx.server.config();
        let mode = if config.get_bool("cluster-enabled") == Some(true) {
            "cluster"
        } else {
            "standalone"
        };
        let role = if config.replicaof().is_some() {
            "replica"
        } else {
            "master"
        };
        (mode, role)
    };
    let proto = match ctx.client.protocol {
        Protocol::Resp2 => 2,
        Protocol::Resp3 => 3,
    };
    let r = &mut *ctx.reply;
    r.map(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(crate::REDIS_VERSION.as_bytes());
    r.bulk(b"proto");
    r.integer(proto);
    r.bulk(b"id");
    r.integer(ctx.client.id() as i64);
    r.bulk(b"mode");
    r.bulk(mode.as_bytes());
    r.bulk(b"role");
    r.bulk(role.as_bytes());
    r.bulk(b"modules");
    r.empty_array();
    Ok(())
}

fn client_id(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ctx.reply.integer(ctx.client.id() as i64);
    Ok(())
}

fn client_getname(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    match ctx.client.info.name() {
        Some(name) => ctx.reply.bulk(&name),
        None => ctx.reply.null(),
    }
    Ok(())
}

fn client_setname(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let name = ctx.args.next_bytes()?;
    set_name(&ctx.client.info, name)?;
    ctx.reply.ok();
    Ok(())
}

/// Names the client; an empty name removes the name. Only printable ASCII without spaces is
/// allowed, so that CLIENT LIST lines split on spaces.
fn set_name(info: &ClientInfo, name: &[u8]) -> Result<(), CommandError> {
    if !name.iter().all(|b| (b'!'..=b'~').contains(b)) {
        return Err(CommandError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    info.details().name = (!name.is_empty()).then(|| name.to_vec());
    Ok(())
}

fn client_info(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let view = ListView::new(ctx);
    let mut out = String::new();
    view.line(&mut out, &ctx.client.info);
    ctx.reply.verbatim(b"txt", out.as_bytes());
    Ok(())
}

/// `CLIENT LIST [TYPE type]` or `CLIENT LIST ID id [id ...]`.
fn client_list(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let argc = ctx.args.argc();
    let clients: Vec<Arc<ClientInfo>> = if argc == 4 && ctx.args.eat("type") {
        let arg = ctx.args.next_bytes()?;
        let wanted = client_type_by_name(arg)?;
        ctx.server
            .client_list()
            .into_iter()
            .filter(|c| client_type(c) == wanted)
            .collect()
    } else if argc > 3 && ctx.args.eat("id") {
        let ids = ctx
            .args
            .rest()
            .map(|arg| parse_i64(arg).ok_or_else(|| CommandError::err("Invalid client ID")))
            .collect::<Result<Vec<i64>, _>>()?;
        let all = ctx
            .server
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ids.iter()
            .filter_map(|id| u64::try_from(*id).ok().and_then(|id| all.get(&id)).cloned())
            .collect()
    } else if argc == 2 {
        ctx.server.client_list()
    } else {
        return Err(CommandError::Syntax);
    };
    let view = ListView::new(ctx);
    let mut out = String::with_capacity(clients.len() * 300);
    for client in clients.iter().filter(|c| !c.is_killed()) {
        view.line(&mut out, client);
    }
    ctx.reply.verbatim(b"txt", out.as_bytes());
    Ok(())
}

/// What building CLIENT LIST lines needs beyond each client's own [`ClientInfo`].
struct ListView {
    now_ms: i64,
    /// The running client and the bytes of its arguments (`argv-mem`).
    own_id: u64,
    own_argv_mem: usize,
    monitors: Vec<u64>,
}

impl ListView {
    fn new(ctx: &CommandContext<'_>) -> ListView {
        let monitors = if ctx.server.has_monitors.load(Relaxed) {
            ctx.server
                .monitors
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .map(|m| m.id)
                .collect()
        } else {
            Vec::new()
        };
        ListView {
            now_ms: unix_ms(),
            own_id: ctx.client.id(),
            own_argv_mem: ctx.args.list().iter().map(<[u8]>::len).sum(),
            monitors,
        }
    }

    /// Appends one client's line, newline included, with Redis's fields in Redis's order.
    /// What we do not track (pub/sub counts, MULTI, buffer internals) reads as Redis reports
    /// an idle client.
    fn line(&self, out: &mut String, info: &ClientInfo) {
        let details = info.details().clone();
        let mut flags = String::new();
        let monitor = details.kind == ClientKind::Monitor || self.monitors.contains(&info.id);
        match details.kind {
            ClientKind::Replica => flags.push('S'),
            _ if monitor => flags.push('O'),
            ClientKind::Master => flags.push('M'),
            ClientKind::Pubsub => flags.push('P'),
            ClientKind::Normal | ClientKind::Monitor => {}
        }
        let tracking = info.tracking_flags.load(Relaxed);
        for (flag, letter) in [
            (crate::tracking::flags::ON, 't'),
            (crate::tracking::flags::BROKEN_REDIR, 'R'),
            (crate::tracking::flags::BCAST, 'B'),
        ] {
            if tracking & flag != 0 {
                flags.push(letter);
            }
        }
        if info.is_unix {
            flags.push('U');
        }
        if details.no_evict {
            flags.push('e');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let argv_mem = if info.id == self.own_id {
            self.own_argv_mem
        } else {
            0
        };
        let qbuf = info.query_buffer.load(Relaxed);
        let omem = info.output_memory.load(Relaxed);
        let tot_mem = info.memory() + argv_mem;
        let name = details
            .name
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let cmd = details
            .last_command
            .map_or("NULL".into(), command_table::full_name);
        let resp = match details.protocol {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        };
        let _ = writeln!(
            out,
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user={} redir={} resp={}",
            info.id,
            info.addr,
            info.laddr,
            info.fd,
            name,
            (self.now_ms - info.created_ms).max(0) / 1000,
            (self.now_ms - info.last_interaction_ms.load(Relaxed)).max(0) / 1000,
            flags,
            info.db.load(Relaxed),
            info.subscriptions[0].load(Relaxed),
            info.subscriptions[1].load(Relaxed),
            info.subscriptions[2].load(Relaxed),
            info.multi_queued.load(Relaxed),
            qbuf,
            info.query_buffer_free.load(Relaxed),
            argv_mem,
            omem,
            tot_mem,
            cmd,
            String::from_utf8_lossy(&details.user),
            tracking_redirect(info),
            resp,
        );
    }
}

/// One client's CLIENT LIST line without its newline (ACL LOG `client-info`).
pub(crate) fn client_info_line(server: &Server, info: &ClientInfo) -> String {
    let monitors = if server.has_monitors.load(Relaxed) {
        server
            .monitors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|m| m.id)
            .collect()
    } else {
        Vec::new()
    };
    let view = ListView {
        now_ms: unix_ms(),
        own_id: info.id,
        own_argv_mem: 0,
        monitors,
    };
    let mut out = String::new();
    view.line(&mut out, info);
    out.truncate(out.trim_end().len());
    out
}

/// The type CLIENT LIST TYPE and CLIENT KILL TYPE match: MONITOR clients count as normal.
fn client_type(info: &ClientInfo) -> ClientKind {
    match info.details().kind {
        ClientKind::Monitor => ClientKind::Normal,
        kind => kind,
    }
}

fn client_type_by_name(name: &[u8]) -> Result<ClientKind, CommandError> {
    if is(name, "normal") {
        Ok(ClientKind::Normal)
    } else if is(name, "slave") || is(name, "replica") {
        Ok(ClientKind::Replica)
    } else if is(name, "pubsub") {
        Ok(ClientKind::Pubsub)
    } else if is(name, "master") {
        Ok(ClientKind::Master)
    } else {
        Err(CommandError::err(format!(
            "Unknown client type '{}'",
            String::from_utf8_lossy(name)
        )))
    }
}

/// Which clients CLIENT KILL closes.
#[derive(Default)]
struct KillFilter<'a> {
    addr: Option<&'a [u8]>,
    laddr: Option<&'a [u8]>,
    user: Option<&'a [u8]>,
    kind: Option<ClientKind>,
    id: Option<u64>,
    /// Spare the calling client even when it matches.
    skip_me: bool,
}

impl<'a> KillFilter<'a> {
    /// The options of the new form: `<option> <value>` pairs.
    fn parse(server: &Server, args: &mut super::Args<'a>) -> Result<KillFilter<'a>, CommandError> {
        let mut filter = KillFilter {
            skip_me: true,
            ..KillFilter::default()
        };
        while let Some(option) = args.next_opt() {
            let Some(value) = args.next_opt() else {
                return Err(CommandError::Syntax);
            };
            if is(option, "id") {
                let id = parse_i64(value)
                    .filter(|id| *id >= 1)
                    .ok_or_else(|| CommandError::err("client-id should be greater than 0"))?;
                filter.id = Some(id as u64);
            } else if is(option, "type") {
                filter.kind = Some(client_type_by_name(value)?);
            } else if is(option, "addr") {
                filter.addr = Some(value);
            } else if is(option, "laddr") {
                filter.laddr = Some(value);
            } else if is(option, "user") {
                if server.acl.user(value).is_none() {
                    return Err(CommandError::err(format!(
                        "No such user '{}'",
                        String::from_utf8_lossy(value)
                    )));
                }
                filter.user = Some(value);
            } else if is(option, "skipme") {
                filter.skip_me = if is(value, "yes") {
                    true
                } else if is(value, "no") {
                    false
                } else {
                    return Err(CommandError::Syntax);
                };
            } else {
                return Err(CommandError::Syntax);
            }
        }
        Ok(filter)
    }

    fn matches(&self, info: &ClientInfo, own_id: u64) -> bool {
        self.addr.is_none_or(|a| a == info.addr.as_bytes())
            && self.laddr.is_none_or(|a| a == info.laddr.as_bytes())
            && self.user.is_none_or(|u| *info.details().user == *u)
            && self.kind.is_none_or(|k| client_type(info) == k)
            && self.id.is_none_or(|id| id == info.id)
            && !(self.skip_me && info.id == own_id)
    }
}

/// `CLIENT KILL addr:port` (replies +OK or an error, and may close the caller) or
/// `CLIENT KILL <option> <value> ...` (replies the number closed; spares the caller unless
/// `SKIPME no`).
fn client_kill(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let old_form = ctx.args.remaining() == 1;
    let filter = if old_form {
        KillFilter {
            addr: Some(ctx.args.next_bytes()?),
            ..KillFilter::default()
        }
    } else {
        KillFilter::parse(ctx.server, &mut ctx.args)?
    };
    let own_id = ctx.client.id();
    let mut killed = 0;
    let mut close_self = false;
    for client in ctx.server.client_list() {
        if client.is_killed() || !filter.matches(&client, own_id) {
            continue;
        }
        if client.id == own_id {
            close_self = true;
        } else {
            client.request_kill();
        }
        killed += 1;
    }
    if old_form {
        if killed == 0 {
            return Err(CommandError::err("No such client"));
        }
        ctx.reply.ok();
    } else {
        ctx.reply.integer(killed);
    }
    if close_self {
        ctx.client.close_after_reply = true;
    }
    Ok(())
}

fn client_reply(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let mode = ctx.args.next_bytes()?;
    if is(mode, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.reply.ok();
    } else if is(mode, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if is(mode, "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::Skip;
        }
    } else {
        return Err(CommandError::Syntax);
    }
    Ok(())
}

fn client_no_evict(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let arg = ctx.args.next_bytes()?;
    let on = if is(arg, "on") {
        true
    } else if is(arg, "off") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    ctx.client.info.details().no_evict = on;
    if !on {
        crate::connection::eviction::recount_and_evict(ctx.server);
    }
    ctx.reply.ok();
    Ok(())
}

/// `CLIENT PAUSE <milliseconds> [WRITE|ALL]`.
fn client_pause(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    if ctx.args.remaining() > 2 {
        let sub = ctx.args.get(1).unwrap_or_default();
        return Err(CommandError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(&sub[..sub.len().min(128)])
        )));
    }
    let timeout = ctx.args.next_bytes()?;
    let kind = match ctx.args.next_opt() {
        None => PauseKind::All,
        Some(mode) if is(mode, "write") => PauseKind::Write,
        Some(mode) if is(mode, "all") => PauseKind::All,
        Some(_) => return Err(CommandError::err("CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let ms = parse_i64(timeout)
        .ok_or_else(|| CommandError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CommandError::err("timeout is negative"));
    }
    let now = Instant::now();
    // Redis adds the timeout to the clock in a signed 64-bit sum: 0, or a sum that
    // overflows, ends the pause at once (merging with any pause in force).
    let until = if ms == 0 || unix_ms().checked_add(ms).is_none() {
        now
    } else {
        now.checked_add(Duration::from_millis(ms as u64))
            .unwrap_or(now)
    };
    ctx.server.pause.pause(kind, until);
    ctx.server.keyspace.hold_expiry(true);
    ctx.reply.ok();
    Ok(())
}

fn client_unpause(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ctx.server.pause.unpause();
    ctx.server.keyspace.hold_expiry(false);
    ctx.reply.ok();
    Ok(())
}

/// Redis 7.0.15's CLIENT HELP text, as is.
const CLIENT_HELP: &[&str] = &[
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
];

/// `CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]`:
/// options are parsed (and the redirect client looked up) before ON/OFF is read, and checked
/// against each other and the current mode in Redis's order.
fn client_tracking(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    use crate::tracking::flags::{BCAST, NOLOOP, ON, OPTIN, OPTOUT};
    let status = ctx.args.next_bytes()?;
    let mut redirect: i64 = 0;
    let mut options = 0;
    let mut prefixes: Vec<&[u8]> = Vec::new();
    while let Some(option) = ctx.args.next_opt() {
        let more = !ctx.args.is_empty();
        if is(option, "redirect") && more {
            if redirect != 0 {
                return Err(CommandError::err(
                    "A client can only redirect to a single other client",
                ));
            }
            redirect = ctx.args.next_i64()?;
            let exists = u64::try_from(redirect)
                .is_ok_and(|id| crate::tracking::client_exists(ctx.server, id));
            if !exists {
                return Err(CommandError::err(
                    "The client ID you want redirect to does not exist",
                ));
            }
        } else if is(option, "bcast") {
            options |= BCAST;
        } else if is(option, "optin") {
            options |= OPTIN;
        } else if is(option, "optout") {
            options |= OPTOUT;
        } else if is(option, "noloop") {
            options |= NOLOOP;
        } else if is(option, "prefix") && more {
            prefixes.push(ctx.args.next_bytes()?);
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if is(status, "off") {
        ctx.server.tracking.disable(ctx.client);
        ctx.reply.ok();
        return Ok(());
    }
    if !is(status, "on") {
        return Err(CommandError::Syntax);
    }
    let current = ctx.client.info.tracking_flags.load(Relaxed);
    if options & BCAST == 0 && !prefixes.is_empty() {
        return Err(CommandError::err(
            "PREFIX option requires BCAST mode to be enabled",
        ));
    }
    if current & ON != 0 && (current & BCAST) != (options & BCAST) {
        return Err(CommandError::err(
            "You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if options & BCAST != 0 && options & (OPTIN | OPTOUT) != 0 {
        return Err(CommandError::err(
            "OPTIN and OPTOUT are not compatible with BCAST",
        ));
    }
    if options & OPTIN != 0 && options & OPTOUT != 0 {
        return Err(CommandError::err(
            "You can't specify both OPTIN mode and OPTOUT mode",
        ));
    }
    if (options & OPTIN != 0 && current & OPTOUT != 0)
        || (options & OPTOUT != 0 && current & OPTIN != 0)
    {
        return Err(CommandError::err(
            "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if options & BCAST != 0 {
        check_prefixes(ctx, &prefixes)?;
    }
    ctx.server.tracking.enable(
        ctx.client,
        crate::tracking::Enable {
            redirect: redirect as u64,
            options,
            prefixes,
        },
    );
    ctx.reply.ok();
    Ok(())
}

/// Two prefixes overlap when one starts the other: the client would get a key twice.
fn check_prefixes(ctx: &mut CommandContext<'_>, prefixes: &[&[u8]]) -> Result<(), CommandError> {
    let overlap = |a: &[u8], b: &[u8]| {
        let n = a.len().min(b.len());
        a[..n] == b[..n]
    };
    let text = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
    for (i, prefix) in prefixes.iter().enumerate() {
        if let Some(existing) = ctx
            .client
            .tracking_prefixes
            .iter()
            .flatten()
            .find(|existing| overlap(existing, prefix))
        {
            return Err(CommandError::err(format!(
                "Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                text(prefix),
                text(existing)
            )));
        }
        if let Some(other) = prefixes[i + 1..]
            .iter()
            .find(|other| overlap(prefix, other))
        {
            let e = CommandError::err(format!(
                "Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                text(prefix),
                text(other)
            ));
            if i == 0 {
                return Err(e);
            }
            // Redis 7.0 reports this as success past the first prefix: the error is sent,
            // then tracking is enabled and +OK follows it.
            ctx.server.stats.count_error(e.code());
            ctx.reply.error(e.to_string().as_bytes());
            return Ok(());
        }
    }
    Ok(())
}

/// `CLIENT CACHING YES|NO`: whether the next command's keys are tracked, in OPTIN / OPTOUT mode.
fn client_caching(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    use crate::tracking::flags::{CACHING, ON, OPTIN, OPTOUT};
    let flags = &ctx.client.info.tracking_flags;
    let current = flags.load(Relaxed);
    if current & ON == 0 {
        return Err(CommandError::err(
            "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ));
    }
    let mode = ctx.args.next_bytes()?;
    if is(mode, "yes") {
        if current & OPTIN == 0 {
            return Err(CommandError::err(
                "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if is(mode, "no") {
        if current & OPTOUT == 0 {
            return Err(CommandError::err(
                "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(CommandError::Syntax);
    }
    flags.fetch_or(CACHING, Relaxed);
    ctx.reply.ok();
    Ok(())
}

/// The client tracking invalidations go to: 0 for itself, -1 when tracking is off.
fn tracking_redirect(info: &ClientInfo) -> i64 {
    if info.tracking_flags.load(Relaxed) & crate::tracking::flags::ON == 0 {
        return -1;
    }
    i64::try_from(info.tracking_redirect.load(Relaxed)).unwrap_or(i64::MAX)
}

fn client_getredir(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    ctx.reply.integer(tracking_redirect(&ctx.client.info));
    Ok(())
}

fn client_trackinginfo(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    use crate::tracking::flags::*;
    let current = ctx.client.info.tracking_flags.load(Relaxed);
    let has = |flag: u32| current & flag != 0;
    let mut names: Vec<&[u8]> = vec![if has(ON) { b"on" } else { b"off" }];
    if has(BCAST) {
        names.push(b"bcast");
    }
    if has(OPTIN) {
        names.push(b"optin");
        if has(CACHING) {
            names.push(b"caching-yes");
        }
    }
    if has(OPTOUT) {
        names.push(b"optout");
        if has(CACHING) {
            names.push(b"caching-no");
        }
    }
    if has(NOLOOP) {
        names.push(b"noloop");
    }
    if has(BROKEN_REDIR) {
        names.push(b"broken_redirect");
    }
    let r = &mut *ctx.reply;
    r.map(3);
    r.bulk(b"flags");
    r.set(names.len());
    for name in names {
        r.bulk(name);
    }
    r.bulk(b"redirect");
    r.integer(tracking_redirect(&ctx.client.info));
    r.bulk(b"prefixes");
    match &ctx.client.tracking_prefixes {
        Some(prefixes) => {
            r.array(prefixes.len());
            for prefix in prefixes {
                r.bulk(prefix);
            }
        }
        None => r.array(0),
    }
    Ok(())
}

fn client_help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    super::reply_help(ctx, CLIENT_HELP);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    fn line(id: u64, rest: &str) -> String {
        format!(
            "id={id} addr=127.0.0.1:{} laddr=127.0.0.1:6379 fd=-1 {rest}",
            40000 + id
        )
    }

    #[test]
    fn select_switches_database_and_checks_the_index() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["SELECT", "3"]), "+OK\r\n");
        assert_eq!(c.client.db, 3);
        assert_eq!(
            c.text(&["SELECT", "16"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            c.text(&["SELECT", "-1"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            c.text(&["SELECT", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["SELECT", "1.5"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["SELECT", "99999999999"]),
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
        );
        assert_eq!(c.client.db, 3);
    }

    #[test]
    fn quit_replies_ok_then_closes() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["QUIT", "extra"]), "+OK\r\n");
        assert!(c.client.close_after_reply);
    }

    #[test]
    fn auth_without_a_configured_password() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["AUTH", "x"]),
            "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
        );
        assert_eq!(c.text(&["AUTH", "default", "anything"]), "+OK\r\n");
        assert_eq!(
            c.text(&["AUTH", "foo", "x"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(c.text(&["AUTH", "a", "b", "c"]), "-ERR syntax error\r\n");
        assert_eq!(
            c.text(&["AUTH"]),
            "-ERR wrong number of arguments for 'auth' command\r\n"
        );
    }

    #[test]
    fn auth_with_requirepass() {
        let mut c = TestClient::with_config(&[("requirepass", "secret")]);
        assert_eq!(
            c.text(&["ECHO", "x"]),
            "-NOAUTH Authentication required.\r\n"
        );
        assert_eq!(
            c.text(&["AUTH", "bad"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(
            c.text(&["AUTH", "Default", "secret"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert!(!c.client.authenticated);
        assert_eq!(c.text(&["AUTH", "secret"]), "+OK\r\n");
        assert_eq!(c.text(&["ECHO", "x"]), "$1\r\nx\r\n");
        // A failed attempt does not log an authenticated client out.
        assert_eq!(
            c.text(&["AUTH", "bad"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert!(c.client.authenticated);
        assert_eq!(c.text(&["RESET"]), "+RESET\r\n");
        assert!(!c.client.authenticated);
        assert_eq!(c.text(&["AUTH", "default", "secret"]), "+OK\r\n");
        assert!(c.client.authenticated);
    }

    const HELLO_TAIL: &str =
        "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";

    #[test]
    fn hello_switches_protocol_and_replies_in_it() {
        let mut c = TestClient::new();
        let id = c.client.id();
        assert_eq!(
            c.text(&["HELLO"]),
            format!(
                "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:{id}\r\n{HELLO_TAIL}"
            )
        );
        assert_eq!(
            c.text(&["HELLO", "3"]),
            format!(
                "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:{id}\r\n{HELLO_TAIL}"
            )
        );
        assert_eq!(c.protocol(), common::resp::Protocol::Resp3);
        assert_eq!(c.text(&["CLIENT", "GETNAME"]), "_\r\n");
        assert!(c.text(&["HELLO", "2"]).starts_with("*14\r\n"));
        assert_eq!(c.text(&["CLIENT", "GETNAME"]), "$-1\r\n");
    }

    #[test]
    fn hello_errors() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["HELLO", "4"]),
            "-NOPROTO unsupported protocol version\r\n"
        );
        assert_eq!(
            c.text(&["HELLO", "1"]),
            "-NOPROTO unsupported protocol version\r\n"
        );
        assert_eq!(
            c.text(&["HELLO", "x"]),
            "-ERR Protocol version is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["HELLO", "3", "foo"]),
            "-ERR Syntax error in HELLO option 'foo'\r\n"
        );
        assert_eq!(
            c.text(&["HELLO", "3", "auth", "a"]),
            "-ERR Syntax error in HELLO option 'auth'\r\n"
        );
        assert_eq!(
            c.text(&["HELLO", "2", "setname"]),
            "-ERR Syntax error in HELLO option 'setname'\r\n"
        );
        assert_eq!(
            c.text(&["HELLO", "3", "auth", "foo", "x"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(
            c.text(&["HELLO", "3", "setname", "a b"]),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
        );
        // Nothing switched after a failure.
        assert_eq!(c.protocol(), common::resp::Protocol::Resp2);
        assert!(
            c.text(&["HELLO", "2", "SETNAME", "ab"])
                .starts_with("*14\r\n")
        );
        assert_eq!(c.text(&["CLIENT", "GETNAME"]), "$2\r\nab\r\n");
    }

    #[test]
    fn hello_with_requirepass() {
        let mut c = TestClient::with_config(&[("requirepass", "secret")]);
        let noauth = "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n";
        assert_eq!(c.text(&["HELLO", "3"]), noauth);
        // SETNAME applies before the check fails, as in Redis.
        assert_eq!(c.text(&["HELLO", "3", "SETNAME", "early"]), noauth);
        assert_eq!(c.client.info.name(), Some(b"early".to_vec()));
        assert_eq!(
            c.text(&["HELLO", "3", "AUTH", "default", "bad"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(c.protocol(), common::resp::Protocol::Resp2);
        assert!(
            c.text(&["HELLO", "3", "AUTH", "default", "secret"])
                .starts_with("%7\r\n")
        );
        assert!(c.client.authenticated);
        assert_eq!(c.protocol(), common::resp::Protocol::Resp3);
    }

    #[test]
    fn client_id_setname_getname() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["CLIENT", "ID"]), format!(":{}\r\n", c.client.id()));
        assert_eq!(c.text(&["CLIENT", "GETNAME"]), "$-1\r\n");
        assert_eq!(c.text(&["CLIENT", "SETNAME", "conn-1"]), "+OK\r\n");
        assert_eq!(c.text(&["CLIENT", "GETNAME"]), "$6\r\nconn-1\r\n");
        for bad in ["a b", "a\nb", "caf\u{e9}"] {
            assert_eq!(
                c.text(&["CLIENT", "SETNAME", bad]),
                "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
            );
        }
        assert_eq!(c.text(&["CLIENT", "GETNAME"]), "$6\r\nconn-1\r\n");
        assert_eq!(c.text(&["CLIENT", "SETNAME", ""]), "+OK\r\n");
        assert_eq!(c.text(&["CLIENT", "GETNAME"]), "$-1\r\n");
        assert_eq!(
            c.text(&["CLIENT", "ID", "x"]),
            "-ERR wrong number of arguments for 'client|id' command\r\n"
        );
        assert_eq!(
            c.text(&["CLIENT", "nosuch"]),
            "-ERR unknown subcommand 'nosuch'. Try CLIENT HELP.\r\n"
        );
    }

    #[test]
    fn client_info_and_list_lines() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        let (ia, ib) = (a.client.id(), b.client.id());
        assert_eq!(b.text(&["CLIENT", "SETNAME", "bee"]), "+OK\r\n");
        assert_eq!(b.text(&["SELECT", "2"]), "+OK\r\n");
        let own = line(
            ia,
            "name= age=0 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=10 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=1810 events=r cmd=client|list user=default redir=-1 resp=2\n",
        );
        let other = line(
            ib,
            "name=bee age=0 idle=0 flags=N db=2 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=1800 events=r cmd=select user=default redir=-1 resp=2\n",
        );
        let all = format!("{own}{other}");
        assert_eq!(
            a.text(&["CLIENT", "LIST"]),
            format!("${}\r\n{all}\r\n", all.len())
        );
        // argv-mem counts the running command's arguments.
        let all = all.replace(
            "argv-mem=10 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=1810",
            "argv-mem=20 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=1820",
        );
        assert_eq!(
            a.text(&["client", "list", "TYPE", "Normal"]),
            format!("${}\r\n{all}\r\n", all.len())
        );
        assert_eq!(a.text(&["CLIENT", "LIST", "TYPE", "pubsub"]), "$0\r\n\r\n");
        assert_eq!(a.text(&["CLIENT", "LIST", "TYPE", "replica"]), "$0\r\n\r\n");
        let by_id = a.text(&["CLIENT", "LIST", "ID", &ib.to_string(), "999", "-5"]);
        assert_eq!(by_id, format!("${}\r\n{other}\r\n", other.len()));
        assert_eq!(
            a.text(&["CLIENT", "LIST", "ID", "1", "x"]),
            "-ERR Invalid client ID\r\n"
        );
        assert_eq!(a.text(&["CLIENT", "LIST", "ID"]), "-ERR syntax error\r\n");
        assert_eq!(
            a.text(&["CLIENT", "LIST", "TYPE", "foo"]),
            "-ERR Unknown client type 'foo'\r\n"
        );
        assert_eq!(
            a.text(&["CLIENT", "LIST", "TYPE", "normal", "x"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(a.text(&["CLIENT", "LIST", "foo"]), "-ERR syntax error\r\n");

        let info = line(
            ib,
            "name=bee age=0 idle=0 flags=N db=2 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=10 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=1810 events=r cmd=client|info user=default redir=-1 resp=3\n",
        );
        assert!(b.text(&["HELLO", "3"]).starts_with("%7"));
        assert_eq!(
            b.text(&["CLIENT", "INFO"]),
            format!("={}\r\ntxt:{info}\r\n", info.len() + 4)
        );
    }

    #[test]
    fn client_list_names_the_last_known_command() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        let id = b.client.id().to_string();
        let cmd_of_b = |a: &mut TestClient| {
            let text = a.text(&["CLIENT", "LIST", "ID", &id]);
            text.split(' ')
                .find_map(|f| f.strip_prefix("cmd="))
                .map(str::to_owned)
        };
        assert_eq!(cmd_of_b(&mut a).as_deref(), Some("NULL"));
        b.run(&["ECHO"]);
        assert_eq!(cmd_of_b(&mut a).as_deref(), Some("echo"));
        b.run(&["nosuch"]);
        assert_eq!(cmd_of_b(&mut a).as_deref(), Some("NULL"));
        b.run(&["CLIENT", "ID"]);
        assert_eq!(cmd_of_b(&mut a).as_deref(), Some("client|id"));
    }

    #[test]
    fn client_kill_old_form() {
        let mut a = TestClient::new();
        let b = TestClient::connect(&a.server);
        let b_addr = b.client.info.addr.clone();
        assert_eq!(
            a.text(&["CLIENT", "KILL", "1.2.3.4:5"]),
            "-ERR No such client\r\n"
        );
        assert_eq!(a.text(&["CLIENT", "KILL", &b_addr]), "+OK\r\n");
        assert!(b.client.info.is_killed());
        assert!(!a.client.close_after_reply);
        // A killed client is gone from the list and cannot be killed twice.
        assert_eq!(
            a.text(&["CLIENT", "KILL", &b_addr]),
            "-ERR No such client\r\n"
        );
        let own = a.client.info.addr.clone();
        assert_eq!(a.text(&["CLIENT", "KILL", &own]), "+OK\r\n");
        assert!(a.client.close_after_reply);
    }

    #[test]
    fn client_kill_filters() {
        let mut a = TestClient::new();
        let b = TestClient::connect(&a.server);
        let c = TestClient::connect(&a.server);
        let (ia, ib) = (a.client.id().to_string(), b.client.id().to_string());
        assert_eq!(a.text(&["CLIENT", "KILL", "ID", &ia]), ":0\r\n");
        assert_eq!(a.text(&["CLIENT", "KILL", "ID", &ib]), ":1\r\n");
        assert!(b.client.info.is_killed());
        assert!(!c.client.info.is_killed());
        assert_eq!(a.text(&["CLIENT", "KILL", "ADDR", "1.2.3.4:5"]), ":0\r\n");
        assert_eq!(a.text(&["CLIENT", "KILL", "TYPE", "master"]), ":0\r\n");
        assert_eq!(
            a.text(&[
                "CLIENT",
                "KILL",
                "LADDR",
                "127.0.0.1:6379",
                "USER",
                "default"
            ]),
            ":1\r\n"
        );
        assert!(c.client.info.is_killed());
        assert!(!a.client.close_after_reply);
        assert_eq!(
            a.text(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no"]),
            ":1\r\n"
        );
        assert!(a.client.close_after_reply);
    }

    #[test]
    fn client_kill_errors() {
        let mut a = TestClient::new();
        for (args, reply) in [
            (
                &["ID", "0"][..],
                "-ERR client-id should be greater than 0\r\n",
            ),
            (&["ID", "x"], "-ERR client-id should be greater than 0\r\n"),
            (&["ID", "5", "TYPE"], "-ERR syntax error\r\n"),
            (&["TYPE", "foo"], "-ERR Unknown client type 'foo'\r\n"),
            (&["USER", "foo"], "-ERR No such user 'foo'\r\n"),
            (&["SKIPME", "maybe"], "-ERR syntax error\r\n"),
            (&["MAXAGE", "1"], "-ERR syntax error\r\n"),
            (&["1.2.3.4:5", "x"], "-ERR syntax error\r\n"),
        ] {
            let mut cmd = vec!["CLIENT", "KILL"];
            cmd.extend_from_slice(args);
            assert_eq!(a.text(&cmd), reply, "{cmd:?}");
        }
        assert_eq!(
            a.text(&["CLIENT", "KILL"]),
            "-ERR wrong number of arguments for 'client|kill' command\r\n"
        );
    }

    #[test]
    fn client_reply_modes() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["CLIENT", "REPLY", "OFF"]), "");
        assert_eq!(c.text(&["PING"]), "");
        assert_eq!(c.text(&["nosuch"]), "");
        // SKIP does nothing while replies are off.
        assert_eq!(c.text(&["CLIENT", "REPLY", "SKIP"]), "");
        assert_eq!(c.text(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
        assert_eq!(c.text(&["PING"]), "+PONG\r\n");
        assert_eq!(c.text(&["CLIENT", "REPLY", "SKIP"]), "");
        assert_eq!(c.text(&["PING"]), "");
        assert_eq!(c.text(&["PING"]), "+PONG\r\n");
        assert_eq!(c.text(&["CLIENT", "REPLY", "SKIP"]), "");
        assert_eq!(c.text(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
        assert_eq!(c.text(&["CLIENT", "REPLY", "foo"]), "-ERR syntax error\r\n");
        assert_eq!(c.text(&["CLIENT", "REPLY", "OFF"]), "");
        assert_eq!(c.text(&["RESET"]), "+RESET\r\n");
        assert_eq!(c.text(&["PING"]), "+PONG\r\n");
    }

    #[test]
    fn client_no_evict_sets_the_e_flag() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
        assert!(c.text(&["CLIENT", "INFO"]).contains(" flags=e "));
        assert_eq!(c.text(&["CLIENT", "NO-EVICT", "OFF"]), "+OK\r\n");
        assert!(c.text(&["CLIENT", "INFO"]).contains(" flags=N "));
        assert_eq!(
            c.text(&["CLIENT", "NO-EVICT", "foo"]),
            "-ERR syntax error\r\n"
        );
    }

    #[test]
    fn client_pause_and_unpause() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["CLIENT", "PAUSE", "x"]),
            "-ERR timeout is not an integer or out of range\r\n"
        );
        assert_eq!(
            c.text(&["CLIENT", "PAUSE", "-1"]),
            "-ERR timeout is negative\r\n"
        );
        assert_eq!(
            c.text(&["CLIENT", "PAUSE", "10", "foo"]),
            "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"
        );
        assert_eq!(
            c.text(&["CLIENT", "PAUSE", "x", "foo"]),
            "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"
        );
        assert_eq!(
            c.text(&["CLIENT", "Pause", "10", "all", "x"]),
            "-ERR unknown subcommand or wrong number of arguments for 'Pause'. Try CLIENT HELP.\r\n"
        );
        assert_eq!(c.text(&["CLIENT", "PAUSE", "0"]), "+OK\r\n");
        assert_eq!(c.text(&["PING"]), "+PONG\r\n");
        assert_eq!(
            c.text(&["CLIENT", "PAUSE", "9223372036854775807"]),
            "+OK\r\n"
        );
        assert_eq!(c.text(&["PING"]), "+PONG\r\n");
        assert_eq!(c.text(&["CLIENT", "PAUSE", "100000", "WRITE"]), "+OK\r\n");
        assert_eq!(c.text(&["PING"]), "+PONG\r\n");
        assert_eq!(c.text(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
        assert_eq!(c.text(&["CLIENT", "PAUSE", "100000"]), "+OK\r\n");
        assert_eq!(c.text(&["PING"]), "(paused)");
        // Under a pause of everything, CLIENT UNPAUSE waits too (as in Redis).
        assert_eq!(c.text(&["CLIENT", "UNPAUSE"]), "(paused)");
        c.server.pause.unpause();
        assert_eq!(c.text(&["PING"]), "+PONG\r\n");
    }

    #[test]
    fn reply_skip_survives_a_paused_command() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["CLIENT", "REPLY", "SKIP"]), "");
        c.server.pause.pause(
            crate::server::PauseKind::All,
            std::time::Instant::now() + std::time::Duration::from_secs(100),
        );
        assert_eq!(c.text(&["PING"]), "(paused)");
        c.server.pause.unpause();
        assert_eq!(c.text(&["PING"]), "");
        assert_eq!(c.text(&["PING"]), "+PONG\r\n");
    }

    #[test]
    fn client_help_is_redis_text() {
        let mut c = TestClient::new();
        let help = c.text(&["client", "help"]);
        assert!(help.starts_with(
            "*48\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CACHING (YES|NO)\r\n"
        ));
        assert!(help.ends_with(
            "+NO-EVICT (ON|OFF)\r\n+    Protect current client connection from eviction.\r\n+HELP\r\n+    Prints this help.\r\n"
        ));
        assert_eq!(help.matches("\r\n").count(), 49);
        assert_eq!(
            c.text(&["CLIENT", "HELP", "x"]),
            "-ERR wrong number of arguments for 'client|help' command\r\n"
        );
    }

    #[test]
    fn client_unblock_ends_a_blocked_pop_with_its_timeout_or_an_error() {
        let mut a = TestClient::new();
        let mut b = TestClient::connect(&a.server);
        let id = a.client.id().to_string();
        assert_eq!(b.text(&["CLIENT", "UNBLOCK", &id]), ":0\r\n");
        assert_eq!(a.text(&["BLPOP", "q", "0"]), "(blocked)");
        assert_eq!(
            b.text(&["CLIENT", "UNBLOCK", &id, "maybe"]),
            "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
        );
        assert_eq!(b.text(&["CLIENT", "UNBLOCK", &id]), ":1\r\n");
        assert_eq!(a.served().as_deref(), Some("*-1\r\n"));
        assert_eq!(a.text(&["BLPOP", "q", "0"]), "(blocked)");
        assert_eq!(b.text(&["CLIENT", "UNBLOCK", &id, "ERROR"]), ":1\r\n");
        assert_eq!(
            a.served().as_deref(),
            Some("-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")
        );
        let info = b.text(&["INFO", "commandstats"]);
        assert!(
            info.contains("cmdstat_blpop:calls=2,") && info.contains("failed_calls=1"),
            "{info}"
        );
        assert!(
            b.text(&["INFO", "errorstats"])
                .contains("errorstat_UNBLOCKED:count=1")
        );
        assert_eq!(
            b.text(&["CLIENT", "UNBLOCK", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
    }

    #[test]
    fn reset_returns_to_a_fresh_connection() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["SELECT", "5"]), "+OK\r\n");
        assert_eq!(c.text(&["CLIENT", "SETNAME", "n"]), "+OK\r\n");
        assert_eq!(c.text(&["CLIENT", "NO-EVICT", "ON"]), "+OK\r\n");
        assert!(c.text(&["HELLO", "3"]).starts_with("%7"));
        c.client.is_monitor = true;
        c.server.add_monitor(c.client.info.clone());
        assert_eq!(c.text(&["RESET"]), "+RESET\r\n");
        assert_eq!(c.client.db, 0);
        assert_eq!(c.protocol(), common::resp::Protocol::Resp2);
        assert!(!c.client.is_monitor);
        assert!(c.server.monitors.lock().unwrap().is_empty());
        assert!(
            !c.server
                .has_monitors
                .load(std::sync::atomic::Ordering::Relaxed)
        );
        assert_eq!(c.text(&["CLIENT", "GETNAME"]), "$-1\r\n");
        // NO-EVICT survives RESET, as in Redis.
        assert!(
            c.text(&["CLIENT", "INFO"])
                .contains(" name= age=0 idle=0 flags=e db=0 ")
        );
        assert_eq!(
            c.text(&["RESET", "x"]),
            "-ERR wrong number of arguments for 'reset' command\r\n"
        );
    }
}
