//! `--cluster create`: slot allocation, replica placement, anti-affinity, then joining.

use std::net::ToSocketAddrs;

use super::node::{Node, SLOTS, not_cluster, not_empty};
use super::{Ctx, log_err, log_info, log_ok, log_warn};

pub(super) fn create(ctx: &mut Ctx, args: &[String]) -> bool {
    ctx.cluster.nodes.clear();
    for addr in args {
        let Some((ip, port, _)) = super::parse_address(addr) else {
            eprintln!("Invalid address format: {addr}");
            return false;
        };
        let mut node = Node::new(&ip, port, 0);
        if !node.connect(&ctx.auth) {
            return false;
        }
        match node.is_cluster() {
            Ok(true) => {}
            Ok(false) => return not_cluster(&node, None),
            Err(e) => return not_cluster(&node, e.as_deref()),
        }
        if let Err(e) = node.load_info(false) {
            if let Some(e) = e {
                node.print_error(&e);
            }
            return false;
        }
        match node.is_empty() {
            Ok(true) => {}
            Ok(false) => return not_empty(&node, None),
            Err(e) => return not_empty(&node, e.as_deref()),
        }
        ctx.cluster.nodes.push(node);
    }
    let node_len = ctx.cluster.nodes.len() as i64;
    let replicas = ctx.opts.replicas;
    let masters_count = if replicas + 1 == 0 {
        0
    } else {
        node_len / (replicas + 1)
    };
    if masters_count < 3 {
        log_err!(
            "*** ERROR: Invalid configuration for cluster creation.\n*** Redis Cluster requires at least 3 master nodes.\n*** This is not possible with {node_len} nodes and {replicas} replicas per node."
        );
        log_err!(
            "\n*** At least {} nodes are required.\n",
            3 * (replicas + 1)
        );
        return false;
    }
    let masters_count = masters_count as usize;
    log_info!(">>> Performing hash slots allocation on {node_len} nodes...\n");
    let nodes = &mut ctx.cluster.nodes;
    let layout = Layout::plan(nodes.iter().map(|n| n.ip.as_str()), masters_count, replicas);
    for (i, (first, last)) in layout.ranges.iter().enumerate() {
        println!("Master[{i}] -> Slots {first} - {last}");
    }
    for (m, range) in layout.masters.iter().zip(&layout.ranges) {
        let master = &mut nodes[*m];
        master.slots_count = 0;
        for slot in range.0..=range.1 {
            master.slots[slot] = true;
            master.slots_count += 1;
        }
        master.dirty = true;
    }
    for event in &layout.events {
        let Some((replica, master)) = *event else {
            println!("Adding extra replicas...");
            continue;
        };
        let name = nodes[master].name.clone();
        nodes[replica].replicate = name;
        nodes[replica].dirty = true;
        println!(
            "Adding replica {}:{} to {}:{}",
            nodes[replica].ip, nodes[replica].port, nodes[master].ip, nodes[master].port
        );
    }
    optimize_anti_affinity(nodes, &layout.ip_groups);
    ctx.cluster.show_nodes();
    if !super::confirm(ctx, "Can I set the above configuration?", false) {
        return true;
    }
    for node in &mut ctx.cluster.nodes {
        let (flushed, err) = flush_config(node);
        if !flushed && node.dirty && node.replicate.is_none() {
            if let Some(e) = err {
                node.print_error(&e);
            }
            return false;
        }
    }
    log_info!(">>> Nodes configuration updated\n");
    log_info!(">>> Assign a different config epoch to each node\n");
    for (epoch, node) in ctx.cluster.nodes.iter_mut().enumerate() {
        let _ = node.cmd(&["cluster", "set-config-epoch", &(epoch + 1).to_string()]);
    }
    log_info!(">>> Sending CLUSTER MEET messages to join the cluster\n");
    let (first, rest) = ctx.cluster.nodes.split_at_mut(1);
    let first = &first[0];
    let Some(first_ip) = resolve(&first.ip) else {
        eprintln!("Invalid IP address or hostname specified: {}", first.ip);
        return false;
    };
    for node in rest {
        if !meet(node, &first_ip, first) {
            return false;
        }
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    ctx.cluster.wait_for_join();
    for node in &mut ctx.cluster.nodes {
        if !node.dirty {
            continue;
        }
        let (flushed, err) = flush_config(node);
        if !flushed && node.replicate.is_none() {
            if let Some(e) = err {
                node.print_error(&e);
            }
            return false;
        }
    }
    ctx.cluster.nodes.truncate(1);
    let first = ctx.cluster.nodes.remove(0);
    if !ctx.cluster.load_from(&ctx.auth, first) {
        return false;
    }
    super::check::check_cluster(ctx, false);
    true
}

/// CLUSTER MEET `node` with `first` (the bus port only when it is not port + 10000).
pub(super) fn meet(node: &mut Node, first_ip: &str, first: &Node) -> bool {
    let port = first.port.to_string();
    let reply = if first.bus_port == 0 || first.bus_port == first.port + 10000 {
        node.cmd(&["CLUSTER", "MEET", first_ip, &port])
    } else {
        node.cmd(&[
            "CLUSTER",
            "MEET",
            first_ip,
            &port,
            &first.bus_port.to_string(),
        ])
    };
    match reply {
        None => {
            eprintln!("Failed to send CLUSTER MEET command.");
            false
        }
        Some(common::resp::Frame::Error(e)) => {
            node.print_error(&String::from_utf8_lossy(&e));
            false
        }
        Some(_) => true,
    }
}

/// The address CLUSTER MEET needs for a host name.
pub(super) fn resolve(host: &str) -> Option<String> {
    let addr = (host, 0).to_socket_addrs().ok()?.next()?;
    Some(addr.ip().to_string())
}

/// Sends a dirty node's plan: CLUSTER REPLICATE for replicas, CLUSTER ADDSLOTS for masters.
/// A replica whose master is not known yet stays dirty, to be sent again after the join.
pub(super) fn flush_config(node: &mut Node) -> (bool, Option<String>) {
    if !node.dirty {
        return (false, None);
    }
    if let Some(master) = node.replicate.clone() {
        return match node.call(&["CLUSTER", "REPLICATE", &master]) {
            Ok(_) => {
                node.dirty = false;
                (true, None)
            }
            Err(e) => (false, e),
        };
    }
    let mut args = vec!["CLUSTER".to_string(), "ADDSLOTS".to_string()];
    args.extend(
        (0..SLOTS)
            .filter(|&s| node.slots[s])
            .take(node.slots_count.max(0) as usize)
            .map(|s| s.to_string()),
    );
    let result = if args.len() == 2 {
        (false, None)
    } else {
        match node.call(&args) {
            Ok(_) => (true, None),
            Err(e) => (false, e),
        }
    };
    node.dirty = false;
    result
}

/// The deterministic part of `create`: which nodes are masters, their slots, and the first
/// replica assignment (before the anti-affinity shuffle).
#[derive(Debug, PartialEq)]
pub(super) struct Layout {
    pub(super) masters: Vec<usize>,
    pub(super) ranges: Vec<(usize, usize)>,
    /// (replica, master)
    pub(super) replicas: Vec<(usize, usize)>,
    /// The nodes of each address, in order of first appearance.
    pub(super) ip_groups: Vec<Vec<usize>>,
    /// The replica assignments in the order made; `None` where the extra pass starts.
    pub(super) events: Vec<Option<(usize, usize)>>,
}

impl Layout {
    pub(super) fn plan<'a>(
        ips: impl Iterator<Item = &'a str>,
        masters_count: usize,
        replicas: i64,
    ) -> Layout {
        let ips: Vec<&str> = ips.collect();
        let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, ip) in ips.iter().enumerate() {
            match groups.iter_mut().find(|(g, _)| g == ip) {
                Some((_, members)) => members.push(i),
                None => groups.push((ip, vec![i])),
            }
        }
        // Round robin over the addresses, so masters spread across hosts.
        let mut interleaved = Vec::with_capacity(ips.len());
        let mut cursors = vec![0usize; groups.len()];
        while interleaved.len() < ips.len() {
            for (g, (_, members)) in groups.iter().enumerate() {
                if let Some(&n) = members.get(cursors[g]) {
                    interleaved.push(n);
                    cursors[g] += 1;
                }
            }
        }
        let masters: Vec<usize> = interleaved[..masters_count].to_vec();
        let mut rest: Vec<Option<usize>> = interleaved[masters_count..]
            .iter()
            .map(|&n| Some(n))
            .collect();
        let mut events = Vec::new();
        let mut ranges = Vec::new();
        let slots_per_node = SLOTS as f32 / masters_count as f32;
        let mut first: i64 = 0;
        let mut cursor: f32 = 0.0;
        for i in 0..masters_count {
            let mut last = f64::from(cursor + slots_per_node - 1.0).round() as i64;
            if last > SLOTS as i64 || i == masters_count - 1 {
                last = SLOTS as i64 - 1;
            }
            if last < first {
                last = first;
            }
            ranges.push((first as usize, last as usize));
            first = last + 1;
            cursor += slots_per_node;
        }
        // Rotating the list sometimes helps the initial anti-affinity.
        if !rest.is_empty() {
            rest.rotate_left(1);
        }
        let mut start = 0;
        let mut available = rest.len();
        let mut assigned_to = Vec::new();
        let mut assign_unused = false;
        loop {
            for &master in &masters {
                let mut assigned = 0;
                while assigned < replicas {
                    if available == 0 {
                        break;
                    }
                    let mut found = None;
                    let mut first_same = None;
                    for (j, slot) in rest.iter_mut().enumerate().skip(start) {
                        let Some(n) = *slot else { continue };
                        if ips[n] != ips[master] {
                            found = Some(n);
                            *slot = None;
                            break;
                        }
                        if first_same.is_none() {
                            first_same = Some(j);
                        }
                    }
                    let replica = match (found, first_same) {
                        (Some(n), _) => n,
                        (None, Some(j)) => {
                            start = j + 1;
                            match rest[j] {
                                Some(n) => n,
                                None => break,
                            }
                        }
                        (None, None) => break,
                    };
                    assigned += 1;
                    available -= 1;
                    assigned_to.push((replica, master));
                    events.push(Some((replica, master)));
                    if assign_unused {
                        break;
                    }
                }
            }
            if !assign_unused && available > 0 {
                assign_unused = true;
                events.push(None);
                continue;
            }
            break;
        }
        Layout {
            masters,
            ranges,
            replicas: assigned_to,
            ip_groups: groups.into_iter().map(|(_, m)| m).collect(),
            events,
        }
    }
}

/// The anti-affinity score: 10000 per replica on its master's host, 1 per replica sharing a
/// host with a sibling; with `offending`, the replicas to try moving.
fn score(nodes: &[Node], groups: &[Vec<usize>], mut offending: Option<&mut Vec<usize>>) -> i64 {
    let mut score = 0;
    for group in groups {
        let Some(&first) = group.first() else {
            continue;
        };
        let ip = &nodes[first].ip;
        let mut related: Vec<(&str, String)> = Vec::new();
        for &n in group {
            let node = &nodes[n];
            let key = node.replicate.as_deref().unwrap_or(node.name());
            let pos = match related.iter().position(|(k, _)| *k == key) {
                Some(p) => p,
                None => {
                    related.push((key, String::new()));
                    related.len() - 1
                }
            };
            let types = &mut related[pos].1;
            if node.replicate.is_some() {
                types.push('s');
            } else {
                types.insert(0, 'm');
            }
        }
        for (key, types) in &related {
            if types.len() < 2 {
                continue;
            }
            if types.starts_with('m') {
                score += 10000 * (types.len() as i64 - 1);
            } else {
                score += types.len() as i64;
            }
            if let Some(list) = offending.as_deref_mut() {
                if let Some(i) = nodes
                    .iter()
                    .position(|n| n.replicate.as_deref() == Some(*key) && n.ip == *ip)
                {
                    list.push(i);
                }
            }
        }
    }
    score
}

/// Swaps replicas' masters at random, keeping swaps that do not make the score worse.
fn optimize_anti_affinity(nodes: &mut [Node], groups: &[Vec<usize>]) {
    if score(nodes, groups, None) == 0 {
        return;
    }
    log_info!(">>> Trying to optimize slaves allocation for anti-affinity\n");
    let mut maxiter = 500 * nodes.len();
    super::seed_time();
    while maxiter > 0 {
        let mut offenders = Vec::new();
        let current = score(nodes, groups, Some(&mut offenders));
        if current == 0 || offenders.is_empty() {
            break;
        }
        let first = offenders[super::rand() % offenders.len()];
        let others: Vec<usize> = (0..nodes.len())
            .filter(|&i| i != first && nodes[i].replicate.is_some())
            .collect();
        if others.is_empty() {
            break;
        }
        let second = others[super::rand() % others.len()];
        let first_master = nodes[first].replicate.take();
        let second_master = nodes[second].replicate.take();
        nodes[first].replicate = second_master.clone();
        nodes[second].replicate = first_master.clone();
        nodes[first].dirty = true;
        nodes[second].dirty = true;
        if score(nodes, groups, None) > current {
            nodes[first].replicate = first_master;
            nodes[second].replicate = second_master;
        }
        maxiter -= 1;
    }
    let score = score(nodes, groups, None);
    if score == 0 {
        log_ok!("[OK] Perfect anti-affinity obtained!\n");
    } else if score >= 10000 {
        log_warn!("[WARNING] Some slaves are in the same host as their master\n");
    } else {
        log_warn!("[WARNING] Some slaves of the same master are in the same host\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_nodes_on_one_host_get_three_masters_and_rotated_replicas() {
        let ips = ["127.0.0.1"; 6];
        let layout = Layout::plan(ips.iter().copied(), 3, 1);
        assert_eq!(layout.masters, [0, 1, 2]);
        assert_eq!(layout.ranges, [(0, 5460), (5461, 10922), (10923, 16383)]);
        assert_eq!(layout.replicas, [(4, 0), (5, 1), (3, 2)]);
    }

    #[test]
    fn masters_spread_over_hosts_and_replicas_avoid_their_master() {
        let ips = ["a", "a", "b", "b", "c", "c"];
        let layout = Layout::plan(ips.iter().copied(), 3, 1);
        assert_eq!(layout.masters, [0, 2, 4]);
        for (r, m) in &layout.replicas {
            assert_ne!(ips[*r], ips[*m]);
        }
    }

    #[test]
    fn four_masters_split_slots_as_redis_does() {
        let layout = Layout::plan(["x"; 4].iter().copied(), 4, 0);
        assert_eq!(
            layout.ranges,
            [(0, 4095), (4096, 8191), (8192, 12287), (12288, 16383)]
        );
        assert!(layout.replicas.is_empty());
    }
}
