//! `info`, `add-node`, `del-node`, `call`, `set-timeout`, `import` and `backup`.

use std::io::Write;

use common::resp::Frame;

use super::create::resolve;
use super::node::{Node, info_field, not_cluster, not_empty, text};
use super::{
    Ctx, FLAG_COPY, FLAG_MASTERS_ONLY, FLAG_REPLACE, FLAG_SLAVE, FLAG_SLAVES_ONLY, log_err,
    log_info, log_ok, log_warn,
};
use crate::connection::{Connection, Target, describe};

/// Keys, slots and replicas of every master, from DBSIZE.
pub(super) fn show_cluster_info(ctx: &mut Ctx) {
    let mut masters = 0;
    let mut keys: i64 = 0;
    for i in 0..ctx.cluster.nodes.len() {
        let nodes = &mut ctx.cluster.nodes;
        if nodes[i].is_slave() {
            continue;
        }
        let Some(name) = nodes[i].name.clone() else {
            continue;
        };
        let replicas = nodes
            .iter()
            .enumerate()
            .filter(|(j, n)| *j != i && n.is_slave() && n.replicate.as_deref() == Some(&name))
            .count();
        let node = &mut nodes[i];
        let dbsize = match node.cmd(&["DBSIZE"]) {
            Some(Frame::Integer(n)) if n >= 0 => n,
            reply => {
                let err = match reply {
                    Some(Frame::Error(e)) => String::from_utf8_lossy(&e).into_owned(),
                    _ => String::new(),
                };
                node.print_error(&err);
                return;
            }
        };
        let short: String = name.chars().take(8).collect();
        println!(
            "{}:{} ({short}...) -> {dbsize} keys | {} slots | {replicas} slaves.",
            node.ip, node.port, node.slots_count
        );
        masters += 1;
        keys += dbsize;
    }
    log_ok!("[OK] {keys} keys in {masters} masters.\n");
    let per_slot = keys as f32 / super::node::SLOTS as f32;
    println!("{:.2} keys per slot on average.", f64::from(per_slot));
}

pub(super) fn info(ctx: &mut Ctx, args: &[String]) -> bool {
    let Some((ip, port)) = super::host_from_args(args) else {
        return super::invalid_host();
    };
    if !ctx.cluster.load_from(&ctx.auth, Node::new(&ip, port, 0)) {
        return false;
    }
    show_cluster_info(ctx);
    true
}

pub(super) fn add_node(ctx: &mut Ctx, args: &[String]) -> bool {
    let (Some((ref_ip, ref_port)), Some((ip, port))) = (
        super::host_from_args(&args[1..]),
        super::host_from_args(&args[..1]),
    ) else {
        return super::invalid_host();
    };
    log_info!(">>> Adding node {ip}:{port} to cluster {ref_ip}:{ref_port}\n");
    if !ctx
        .cluster
        .load_from(&ctx.auth, Node::new(&ref_ip, ref_port, 0))
    {
        return false;
    }
    if !super::check::check_cluster(ctx, false) {
        return false;
    }
    let mut master = None;
    if ctx.opts.flags & FLAG_SLAVE != 0 {
        match ctx.opts.master_id.clone() {
            Some(id) => match ctx.cluster.by_name(&id) {
                Some(m) => master = Some(m),
                None => {
                    log_err!("[ERR] No such master ID {id}\n");
                    return false;
                }
            },
            None => {
                let Some(m) = ctx.cluster.least_replicas() else {
                    return false;
                };
                let n = &ctx.cluster.nodes[m];
                println!("Automatically selected master {}:{}", n.ip, n.port);
                master = Some(m);
            }
        }
    }
    let mut new = Node::new(&ip, port, 0);
    if !new.connect(&ctx.auth) {
        log_err!("[ERR] Sorry, can't connect to node {ip}:{port}\n");
        return false;
    }
    match new.is_cluster() {
        Ok(true) => {}
        Ok(false) => return not_cluster(&new, None),
        Err(e) => return not_cluster(&new, e.as_deref()),
    }
    if let Err(e) = new.load_info(false) {
        if let Some(e) = e {
            new.print_error(&e);
        }
        return false;
    }
    match new.is_empty() {
        Ok(true) => {}
        Ok(false) => return not_empty(&new, None),
        Err(e) => return not_empty(&new, e.as_deref()),
    }
    if master.is_none() {
        // A replica gets the functions from its master; a new master needs them sent.
        log_info!(">>> Getting functions from cluster\n");
        match ctx.cluster.nodes[0].call(&["FUNCTION", "DUMP"]) {
            Err(e) => log_info!(
                ">>> Failed retrieving Functions from the cluster, skip this step as Redis version do not support function command (error = '{}')\n",
                e.as_deref().unwrap_or("NULL reply")
            ),
            Ok(dump) => {
                let dump = match dump {
                    Frame::Bulk(b) => b,
                    _ => Vec::new(),
                };
                log_info!(
                    ">>> Send FUNCTION LIST to {ip}:{port} to verify there is no functions in it\n"
                );
                match new.call(&["FUNCTION", "LIST"]) {
                    Err(e) => {
                        log_err!(
                            ">>> Failed on CLUSTER LIST (error = '{}')\r\n",
                            e.as_deref().unwrap_or("NULL reply")
                        );
                        return false;
                    }
                    Ok(Frame::Array(list)) if !list.is_empty() => {
                        log_err!(
                            ">>> New node already contains functions and can not be added to the cluster. Use FUNCTION FLUSH and try again.\r\n"
                        );
                        return false;
                    }
                    Ok(_) => {}
                }
                log_info!(">>> Send FUNCTION RESTORE to {ip}:{port}\n");
                if let Err(e) = new.call(&[&b"FUNCTION"[..], b"RESTORE", &dump]) {
                    log_err!(
                        ">>> Failed loading functions to the new node (error = '{}')\r\n",
                        e.as_deref().unwrap_or("NULL reply")
                    );
                    return false;
                }
            }
        }
    }
    log_info!(">>> Send CLUSTER MEET to node {ip}:{port} to make it join the cluster.\n");
    let first = &ctx.cluster.nodes[0];
    let Some(first_ip) = resolve(&first.ip) else {
        eprintln!("Invalid IP address or hostname specified: {}", first.ip);
        return false;
    };
    let port_text = first.port.to_string();
    let reply = if first.bus_port == 0 || first.bus_port == first.port + 10000 {
        new.cmd(&["CLUSTER", "MEET", &first_ip, &port_text])
    } else {
        new.cmd(&[
            "CLUSTER",
            "MEET",
            &first_ip,
            &port_text,
            &first.bus_port.to_string(),
        ])
    };
    if !new.check(reply) {
        return false;
    }
    ctx.cluster.nodes.push(new);
    if let Some(m) = master {
        std::thread::sleep(std::time::Duration::from_secs(1));
        ctx.cluster.wait_for_join();
        let (mip, mport, mname) = {
            let n = &ctx.cluster.nodes[m];
            (n.ip.clone(), n.port, n.name().to_string())
        };
        log_info!(">>> Configure node as replica of {mip}:{mport}.\n");
        let Some(new) = ctx.cluster.nodes.last_mut() else {
            return false;
        };
        if !new.ok(&["CLUSTER", "REPLICATE", &mname]) {
            return false;
        }
    }
    log_ok!("[OK] New node added correctly.\n");
    true
}

pub(super) fn del_node(ctx: &mut Ctx, args: &[String]) -> bool {
    let Some((ip, port)) = super::host_from_args(&args[..1]) else {
        return super::invalid_host();
    };
    let id = &args[1];
    log_info!(">>> Removing node {id} from cluster {ip}:{port}\n");
    if !ctx.cluster.load_from(&ctx.auth, Node::new(&ip, port, 0)) {
        return false;
    }
    let Some(node) = ctx.cluster.by_name(id) else {
        log_err!("[ERR] No such node ID {id}\n");
        return false;
    };
    if ctx.cluster.nodes[node].slots_count != 0 {
        let n = &ctx.cluster.nodes[node];
        log_err!(
            "[ERR] Node {}:{} is not empty! Reshard data away and try again.\n",
            n.ip,
            n.port
        );
        return false;
    }
    log_info!(">>> Sending CLUSTER FORGET messages to the cluster...\n");
    for i in 0..ctx.cluster.nodes.len() {
        if i == node {
            continue;
        }
        let replicates_it = ctx.cluster.nodes[i]
            .replicate
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case(id));
        if replicates_it {
            let Some(master) = ctx.cluster.least_replicas() else {
                return false;
            };
            let (mip, mport, mname) = {
                let m = &ctx.cluster.nodes[master];
                (m.ip.clone(), m.port, m.name().to_string())
            };
            let n = &mut ctx.cluster.nodes[i];
            log_info!(">>> {}:{} as replica of {mip}:{mport}\n", n.ip, n.port);
            if !n.ok(&["CLUSTER", "REPLICATE", &mname]) {
                return false;
            }
        }
        if !ctx.cluster.nodes[i].ok(&["CLUSTER", "FORGET", id]) {
            return false;
        }
    }
    log_info!(">>> Sending CLUSTER RESET SOFT to the deleted node.\n");
    ctx.cluster.nodes[node].ok(&["CLUSTER", "RESET", "SOFT"])
}

pub(super) fn call(ctx: &mut Ctx, args: &[String]) -> bool {
    let Some((ip, port)) = super::host_from_args(&args[..1]) else {
        return super::invalid_host();
    };
    if !ctx.cluster.load_from(&ctx.auth, Node::new(&ip, port, 0)) {
        return false;
    }
    let command = &args[1..];
    log_info!(">>> Calling");
    let mut line = String::new();
    for a in command {
        line.push(' ');
        line.push_str(a);
    }
    println!("{line}");
    let flags = ctx.opts.flags;
    let auth = ctx.auth.clone();
    for n in &mut ctx.cluster.nodes {
        if flags & FLAG_MASTERS_ONLY != 0 && n.replicate.is_some() {
            continue;
        }
        if flags & FLAG_SLAVES_ONLY != 0 && n.replicate.is_none() {
            continue;
        }
        if n.conn.is_none() && !n.connect(&auth) {
            continue;
        }
        match n.cmd(command) {
            None => println!("{}:{}: Failed!", n.ip, n.port),
            Some(reply) => {
                match crate::format::reply(
                    &reply,
                    crate::format::Output::Raw,
                    true,
                    &ctx.mb_delim,
                    b"",
                ) {
                    Ok(bytes) => {
                        let mut out = std::io::stdout().lock();
                        let _ = write!(out, "{}:{}: ", n.ip, n.port);
                        let _ = out.write_all(&bytes);
                        let _ = out.write_all(b"\n");
                    }
                    Err(crate::format::UnknownType(t)) => {
                        super::flush();
                        eprintln!("Unknown reply type: {t}");
                        std::process::exit(1);
                    }
                }
            }
        }
    }
    true
}

pub(super) fn set_timeout(ctx: &mut Ctx, args: &[String]) -> bool {
    let Some((ip, port)) = super::host_from_args(&args[..1]) else {
        return super::invalid_host();
    };
    let timeout = crate::options::c_int(&args[1]) as i32;
    if timeout < 100 {
        eprintln!("Setting a node timeout of less than 100 milliseconds is a bad idea.");
        return false;
    }
    if !ctx.cluster.load_from(&ctx.auth, Node::new(&ip, port, 0)) {
        return false;
    }
    let (mut ok, mut errors) = (0, 0);
    log_info!(">>> Reconfiguring node timeout in every cluster node...\n");
    let timeout = timeout.to_string();
    for n in &mut ctx.cluster.nodes {
        let result = n
            .call(&["CONFIG", "SET", "cluster-node-timeout", &timeout])
            .and_then(|_| n.call(&["CONFIG", "REWRITE"]));
        match result {
            Ok(_) => {
                log_warn!("*** New timeout set for {}:{}\n", n.ip, n.port);
                ok += 1;
            }
            Err(e) => {
                log_err!(
                    "ERR setting node-timeout for {}:{}: {}\n",
                    n.ip,
                    n.port,
                    e.unwrap_or_default()
                );
                errors += 1;
            }
        }
    }
    log_info!(">>> New node timeout set. {ok} OK, {errors} ERR.\n");
    true
}

pub(super) fn import(ctx: &mut Ctx, args: &[String]) -> bool {
    let Some((ip, port)) = super::host_from_args(args) else {
        return super::invalid_host();
    };
    let Some(from) = ctx.opts.from.clone() else {
        eprintln!("[ERR] Option '--cluster-from' is required for subcommand 'import'.");
        return false;
    };
    let Some((src_ip, src_port)) = super::host_from_args(std::slice::from_ref(&from)) else {
        eprintln!(
            "[ERR] Invalid --cluster-from host. You need to pass a valid address (ie. 120.0.0.1:7000)."
        );
        return false;
    };
    log_info!(">>> Importing data from {src_ip}:{src_port} to cluster {ip}:{port}\n");
    if !ctx.cluster.load_from(&ctx.auth, Node::new(&ip, port, 0)) {
        return false;
    }
    if !super::check::check_cluster(ctx, false) {
        return false;
    }
    let source = u16::try_from(src_port)
        .map_err(|_| "Servname not supported for ai_socktype".to_string())
        .and_then(|p| {
            Connection::connect(&Target::Tcp {
                host: src_ip.clone(),
                port: p,
            })
            .map_err(|e| describe(&e))
        });
    let mut src = match source {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Could not connect to Redis at {src_ip}:{src_port}: {e}.");
            return false;
        }
    };
    let source_error = |e: &str| {
        log_err!("Source {src_ip}:{src_port} replied with error:\n{e}\n");
        false
    };
    if let Some(pass) = &ctx.opts.from_pass {
        let reply = match &ctx.opts.from_user {
            Some(user) => src.command(&["AUTH", user, pass]),
            None => src.command(&["AUTH", pass]),
        };
        match reply {
            Err(_) => {
                eprintln!("\nI/O error");
                return false;
            }
            Ok(Frame::Error(e)) => {
                eprintln!("AUTH failed: {}", String::from_utf8_lossy(&e));
                return false;
            }
            Ok(_) => {}
        }
    }
    let info = match src.command(&["INFO"]) {
        Ok(Frame::Error(e)) => return source_error(&String::from_utf8_lossy(&e)),
        Err(_) => return false,
        Ok(f) => text(&f),
    };
    if info_field(&info, "cluster_enabled") != 0 {
        log_err!("[ERR] The source node should not be a cluster node.\n");
        return false;
    }
    let size = match src.command(&["DBSIZE"]) {
        Ok(Frame::Error(e)) => return source_error(&String::from_utf8_lossy(&e)),
        Err(_) => return false,
        Ok(Frame::Integer(n)) => n,
        Ok(_) => 0,
    };
    log_warn!("*** Importing {} keys from DB 0\n", size as i32);
    let mut owners: Vec<Option<usize>> = vec![None; super::node::SLOTS];
    for (slot, owner) in owners.iter_mut().enumerate() {
        *owner = ctx
            .cluster
            .nodes
            .iter()
            .position(|n| !n.is_slave() && n.slots_count != 0 && n.slots[slot]);
    }
    let mut tail: Vec<Vec<u8>> = Vec::new();
    if let Some(pass) = &ctx.auth.pass {
        match &ctx.auth.user {
            Some(user) => {
                tail.push(b"AUTH2".to_vec());
                tail.push(user.clone());
            }
            None => tail.push(b"AUTH".to_vec()),
        }
        tail.push(pass.clone());
    }
    if ctx.opts.flags & FLAG_COPY != 0 {
        tail.push(b"COPY".to_vec());
    }
    if ctx.opts.flags & FLAG_REPLACE != 0 {
        tail.push(b"REPLACE".to_vec());
    }
    let timeout = (ctx.opts.timeout as i32).to_string();
    let bar = super::migrate::progress_bar(size.max(0) as usize);
    let mut cursor = b"0".to_vec();
    loop {
        let reply = match src.command(&[&b"SCAN"[..], &cursor, b"COUNT", b"1000"]) {
            Ok(Frame::Error(e)) => return source_error(&String::from_utf8_lossy(&e)),
            Err(_) => return false,
            Ok(f) => f,
        };
        let Frame::Array(parts) = reply else {
            return false;
        };
        let (Some(next), Some(Frame::Array(keys))) = (parts.first(), parts.get(1)) else {
            return false;
        };
        cursor = match next {
            Frame::Bulk(c) => c.clone(),
            Frame::Integer(c) => c.to_string().into_bytes(),
            _ => b"0".to_vec(),
        };
        for key in keys {
            let Frame::Bulk(key) = key else { return false };
            let slot = common::cluster_slot::key_slot(key) as usize;
            let Some(target) = owners[slot] else {
                return false;
            };
            let t = &ctx.cluster.nodes[target];
            let shown = String::from_utf8_lossy(key);
            if bar.is_none() {
                print!("Migrating {shown} to {}:{}: ", t.ip, t.port);
            }
            let mut args: Vec<Vec<u8>> = vec![
                b"MIGRATE".to_vec(),
                t.ip.as_bytes().to_vec(),
                t.port.to_string().into_bytes(),
                key.clone(),
                b"0".to_vec(),
                timeout.clone().into_bytes(),
            ];
            args.extend(tail.iter().cloned());
            match src.command(&args) {
                Ok(Frame::Error(e)) => {
                    if let Some(b) = &bar {
                        b.abandon();
                    }
                    return source_error(&String::from_utf8_lossy(&e));
                }
                Err(_) => return false,
                Ok(_) => {}
            }
            match &bar {
                Some(b) => {
                    b.set_message(format!("{shown} -> {}:{}", t.ip, t.port));
                    b.inc(1);
                }
                None => log_ok!("OK\n"),
            }
        }
        if crate::options::c_int(&String::from_utf8_lossy(&cursor)) == 0 {
            break;
        }
    }
    if let Some(b) = bar {
        b.finish();
    }
    true
}

pub(super) fn backup(ctx: &mut Ctx, args: &[String]) -> bool {
    let Some((ip, port)) = super::host_from_args(&args[..1]) else {
        return super::invalid_host();
    };
    if !ctx.cluster.load_from(&ctx.auth, Node::new(&ip, port, 0)) {
        return false;
    }
    let no_issues = super::check::check_cluster(ctx, false);
    let error_count = if no_issues {
        0
    } else {
        ctx.cluster.errors.len()
    };
    let dir = args[1].clone();
    let dir_slash = if dir.ends_with('/') {
        dir.clone()
    } else {
        format!("{dir}/")
    };
    let mut json = String::from("[\n");
    for i in 0..ctx.cluster.nodes.len() {
        if i > 0 {
            json.push_str(",\n");
        }
        json.push_str(&node_json(&ctx.cluster.nodes[i], error_count));
        let n = &mut ctx.cluster.nodes[i];
        if n.replicate.is_some() {
            continue;
        }
        log_info!(">>> Node {}:{} -> Saving RDB...\n", n.ip, n.port);
        super::flush();
        let file = format!("{dir_slash}redis-node-{}-{}-{}.rdb", n.ip, n.port, n.name());
        save_rdb(n, &file);
    }
    json.push_str("\n]");
    let path = format!("{dir_slash}nodes.json");
    log_info!("Saving cluster configuration to: {path}\n");
    if std::fs::write(&path, json).is_err() {
        log_err!("Could not save nodes to: {path}\n");
        log_ok!("[ERR] Failed to back cluster!\n");
        return false;
    }
    if !no_issues {
        log_warn!(
            "*** Cluster seems to have some problems, please be aware of it if you're going to restore this backup.\n"
        );
    }
    log_ok!("[OK] Backup created into: {dir}\n");
    true
}

/// The node as `backup` describes it in nodes.json.
fn node_json(n: &Node, errors: usize) -> String {
    let replicate = match &n.replicate {
        Some(r) => format!("\"{r}\""),
        None => "null".to_string(),
    };
    let mut json = format!(
        "  {{\n    \"name\": \"{}\",\n    \"host\": \"{}\",\n    \"port\": {},\n    \"replicate\": {},\n    \"slots\": [{}],\n    \"slots_count\": {},\n    \"flags\": \"{}\",\n    \"current_epoch\": {}",
        n.name(),
        n.ip,
        n.port,
        replicate,
        n.slots_string().replace('-', ","),
        n.slots_count,
        n.flag_string(),
        n.current_epoch
    );
    if errors > 0 {
        json.push_str(&format!(",\n    \"cluster_errors\": {errors}"));
    }
    for (key, list) in [("migrating", &n.migrating), ("importing", &n.importing)] {
        if !list.is_empty() {
            let items: Vec<String> = list
                .iter()
                .map(|(s, id)| format!("\"{s}\": \"{id}\""))
                .collect();
            json.push_str(&format!(",\n    \"{key}\": {{{}}}", items.join(",")));
        }
    }
    json.push_str("\n  }");
    json
}

/// SYNC on the node's connection, writing the RDB payload to `file`; exits on failure.
/// Saves `node`'s snapshot to `file` as `--rdb` does, over the node's own connection (closed
/// after: the master streams commands on it once the payload is sent).
fn save_rdb(node: &mut Node, file: &str) {
    let Some(mut conn) = node.conn.take() else {
        std::process::exit(1);
    };
    if let Err(crate::session::Exit(code)) = crate::modes::save_snapshot(&mut conn, file) {
        std::process::exit(i32::from(code));
    }
}
