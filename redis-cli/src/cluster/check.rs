//! `check` and `fix`: agreement, open slots, coverage and (on request) multiple owners.

use common::resp::Frame;

use super::migrate::{MoveOpts, move_slot, set_slot};
use super::node::{Node, SLOTS, slot_ranges};
use super::{
    Ctx, FLAG_CHECK_OWNERS, FLAG_FIX, FLAG_FIX_WITH_UNREACHABLE_MASTERS, log_err, log_info, log_ok,
    log_warn,
};

pub(super) fn check(ctx: &mut Ctx, args: &[String]) -> bool {
    let Some((ip, port)) = super::host_from_args(args) else {
        return super::invalid_host();
    };
    if !ctx.cluster.load_from(&ctx.auth, Node::new(&ip, port, 0)) {
        return false;
    }
    super::admin::show_cluster_info(ctx);
    check_cluster(ctx, false)
}

pub(super) fn fix(ctx: &mut Ctx, args: &[String]) -> bool {
    ctx.opts.flags |= FLAG_FIX;
    check(ctx, args)
}

/// CLUSTER COUNTKEYSINSLOT, -1 on error (printed).
fn count_keys(node: &mut Node, slot: usize) -> i64 {
    match node.cmd(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]) {
        Some(Frame::Integer(n)) => n,
        reply => {
            node.check(reply);
            -1
        }
    }
}

/// Every check; with `fix`, repairs what it can. True when the cluster looks healthy.
pub(super) fn check_cluster(ctx: &mut Ctx, quiet: bool) -> bool {
    let Some(first) = ctx.cluster.nodes.first() else {
        return false;
    };
    log_info!(
        ">>> Performing Cluster Check (using node {}:{})\n",
        first.ip,
        first.port
    );
    let do_fix = ctx.opts.flags & FLAG_FIX != 0;
    let mut result = true;
    if !quiet {
        ctx.cluster.show_nodes();
    }
    if !ctx.cluster.is_consistent() {
        ctx.cluster
            .on_error("[ERR] Nodes don't agree about configuration!".to_string());
        result = false;
    } else {
        log_ok!("[OK] All nodes agree about slots configuration.\n");
    }
    log_info!(">>> Check for open slots...\n");
    let mut open: Vec<(String, String)> = Vec::new();
    let mut any_open = false;
    for i in 0..ctx.cluster.nodes.len() {
        for importing in [false, true] {
            let n = &ctx.cluster.nodes[i];
            let list = if importing {
                &n.importing
            } else {
                &n.migrating
            };
            if list.is_empty() {
                continue;
            }
            any_open = true;
            let slots: Vec<&str> = list.iter().map(|(s, _)| s.as_str()).collect();
            let err = format!(
                "[WARNING] Node {}:{} has slots in {} state {}.",
                n.ip,
                n.port,
                if importing { "importing" } else { "migrating" },
                slots.join(",")
            );
            for (slot, other) in list.clone() {
                match open.iter_mut().find(|(s, _)| *s == slot) {
                    Some(entry) => entry.1 = other,
                    None => open.push((slot, other)),
                }
            }
            ctx.cluster.on_error(err);
        }
    }
    if any_open {
        result = false;
        let slots: Vec<&str> = open.iter().map(|(s, _)| s.as_str()).collect();
        log_err!(
            "[WARNING] The following slots are open: {}.\n",
            slots.join(",")
        );
        if do_fix {
            for (slot, _) in &open {
                let slot = crate::options::c_int(slot);
                if !(0..SLOTS as i64).contains(&slot) {
                    continue;
                }
                result = fix_open_slot(ctx, slot as usize);
                if !result {
                    break;
                }
            }
        }
    }
    log_info!(">>> Check slots coverage...\n");
    let mut covered = vec![false; SLOTS];
    for n in &ctx.cluster.nodes {
        for (c, s) in covered.iter_mut().zip(&n.slots) {
            *c |= *s;
        }
    }
    if covered.iter().all(|&c| c) {
        log_ok!("[OK] All {SLOTS} slots covered.\n");
    } else {
        ctx.cluster.on_error(format!(
            "[ERR] Not all {SLOTS} slots are covered by nodes.\n"
        ));
        result = false;
        if do_fix && fix_slots_coverage(ctx, &covered) > 0 {
            result = true;
        }
    }
    if ctx.opts.flags & FLAG_CHECK_OWNERS != 0 {
        log_info!(">>> Check for multiple slot owners...\n");
        let mut with_multiple = 0;
        for slot in 0..SLOTS {
            let mut owners = Vec::new();
            for i in 0..ctx.cluster.nodes.len() {
                let n = &mut ctx.cluster.nodes[i];
                if n.is_slave() {
                    continue;
                }
                if n.slots[slot] || count_keys(n, slot) > 0 {
                    owners.push(i);
                }
            }
            if owners.len() > 1 {
                result = false;
                log_err!("[WARNING] Slot {slot} has {} owners:\n", owners.len());
                for &o in &owners {
                    let n = &ctx.cluster.nodes[o];
                    log_err!("    {}:{}\n", n.ip, n.port);
                }
                with_multiple += 1;
                if do_fix {
                    result = fix_multiple_owners(ctx, slot, &owners);
                    if !result {
                        log_err!("Failed to fix multiple owners for slot {slot}\n");
                        break;
                    }
                    with_multiple -= 1;
                }
            }
        }
        if with_multiple == 0 {
            log_ok!("[OK] No multiple owners found.\n");
        }
    }
    result
}

/// Of `nodes` (masters only), the one with the most keys in `slot`; `None` on error.
fn most_keys(ctx: &mut Ctx, nodes: &[usize], slot: usize) -> Option<usize> {
    let mut best = None;
    let mut most = 0;
    for &i in nodes {
        let n = &mut ctx.cluster.nodes[i];
        if n.is_slave() || n.replicate.is_some() {
            continue;
        }
        match n.call(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]) {
            Ok(Frame::Integer(count)) => {
                if count > most || best.is_none() {
                    most = count;
                    best = Some(i);
                }
            }
            Ok(_) => {}
            Err(e) => {
                if let Some(e) = e {
                    n.print_error(&e);
                }
                return None;
            }
        }
    }
    best
}

/// MULTI; DELSLOTS (if assigned); ADDSLOTS; [SETSLOT STABLE]; BUMPEPOCH; EXEC. Only an
/// ADDSLOTS failure counts.
fn set_slot_owner(node: &mut Node, slot: usize, clear: bool) -> bool {
    if !node.ok(&["MULTI"]) {
        return false;
    }
    let s = slot.to_string();
    let _ = node.cmd(&["CLUSTER", "DELSLOTS", &s]);
    let _ = node.cmd(&["CLUSTER", "ADDSLOTS", &s]);
    if clear {
        let _ = node.cmd(&["CLUSTER", "SETSLOT", &s, "STABLE"]);
    }
    let _ = node.cmd(&["CLUSTER", "BUMPEPOCH"]);
    match node.cmd(&["EXEC"]) {
        Some(Frame::Array(replies)) => {
            for (i, r) in replies.iter().enumerate() {
                if let Frame::Error(e) = r {
                    if i == 1 {
                        node.print_error(&String::from_utf8_lossy(e));
                        return false;
                    }
                }
            }
            true
        }
        reply => {
            node.check(reply);
            false
        }
    }
}

/// CLUSTER SETSLOT `slot` STABLE.
fn clear_slot(node: &mut Node, slot: usize) -> bool {
    node.ok(&["CLUSTER", "SETSLOT", &slot.to_string(), "STABLE"])
}

/// CLUSTER DELSLOTS, where a slot nobody serves is not an error.
fn del_slot(ctx: &mut Ctx, node: usize, slot: usize) -> bool {
    match ctx.cluster.nodes[node].call(&["CLUSTER", "DELSLOTS", &slot.to_string()]) {
        Ok(_) => true,
        Err(None) => false,
        Err(Some(e)) => {
            match super::migrate::slot_owner(&mut ctx.cluster.nodes, node, slot) {
                Ok(None) => return true,
                Err(Some(owner_err)) => ctx.cluster.nodes[node].print_error(&owner_err),
                _ => {}
            }
            ctx.cluster.nodes[node].print_error(&e);
            false
        }
    }
}

fn refuse_with_unreachable(ctx: &Ctx, what: &str) {
    if ctx.cluster.unreachable_masters > 0
        && ctx.opts.flags & FLAG_FIX_WITH_UNREACHABLE_MASTERS == 0
    {
        log_warn!(
            "*** Fixing {what} with {} unreachable masters is dangerous: redis-cli will assume that slots about masters that are not reachable are not covered, and will try to reassign them to the reachable nodes. This can cause data loss and is rarely what you want to do. If you really want to proceed use the --cluster-fix-with-unreachable-masters option.\n",
            ctx.cluster.unreachable_masters
        );
        super::flush();
        std::process::exit(1);
    }
}

/// Assigns uncovered slots: to a random master, to the one node with keys, or to the node
/// with the most keys after moving the others' keys. The number fixed, -1 on error.
fn fix_slots_coverage(ctx: &mut Ctx, covered: &[bool]) -> i64 {
    refuse_with_unreachable(ctx, "slots coverage");
    log_info!(">>> Fixing slots coverage...\n");
    let mut uncovered: Vec<(usize, Vec<usize>)> = Vec::new();
    for slot in (0..SLOTS).filter(|&s| !covered[s]) {
        let mut with_keys = Vec::new();
        for i in 0..ctx.cluster.nodes.len() {
            let n = &mut ctx.cluster.nodes[i];
            if n.is_slave() || n.replicate.is_some() {
                continue;
            }
            match n.cmd(&["CLUSTER", "GETKEYSINSLOT", &slot.to_string(), "1"]) {
                Some(Frame::Array(keys)) => {
                    if !keys.is_empty() {
                        with_keys.push(i);
                    }
                }
                reply => {
                    n.check(reply);
                    return -1;
                }
            }
        }
        uncovered.push((slot, with_keys));
    }
    let none: Vec<usize> = uncovered
        .iter()
        .filter(|(_, n)| n.is_empty())
        .map(|(s, _)| *s)
        .collect();
    let single: Vec<&(usize, Vec<usize>)> =
        uncovered.iter().filter(|(_, n)| n.len() == 1).collect();
    let multi: Vec<&(usize, Vec<usize>)> = uncovered.iter().filter(|(_, n)| n.len() > 1).collect();
    let list = |slots: &mut dyn Iterator<Item = usize>| {
        let mut flags = vec![false; SLOTS];
        for s in slots {
            flags[s] = true;
        }
        println!("{}", slot_ranges(&flags));
    };
    let mut fixed = 0;
    if !none.is_empty() {
        println!("The following uncovered slots have no keys across the cluster:");
        list(&mut none.iter().copied());
        if super::confirm(ctx, "Fix these slots by covering with a random node?", true) {
            for &slot in &none {
                let Some(n) = random_master(ctx) else {
                    return -1;
                };
                let node = &mut ctx.cluster.nodes[n];
                log_info!(">>> Covering slot {slot} with {}:{}\n", node.ip, node.port);
                if !set_slot_owner(node, slot, false) {
                    return -1;
                }
                node.slots[slot] = true;
                fixed += 1;
            }
        }
    }
    if !single.is_empty() {
        println!("The following uncovered slots have keys in just one node:");
        list(&mut single.iter().map(|(s, _)| *s));
        if super::confirm(ctx, "Fix these slots by covering with those nodes?", true) {
            for (slot, nodes) in &single {
                let node = &mut ctx.cluster.nodes[nodes[0]];
                log_info!(">>> Covering slot {slot} with {}:{}\n", node.ip, node.port);
                if !set_slot_owner(node, *slot, false) {
                    return -1;
                }
                node.slots[*slot] = true;
                fixed += 1;
            }
        }
    }
    if !multi.is_empty() {
        println!("The following uncovered slots have keys in multiple nodes:");
        list(&mut multi.iter().map(|(s, _)| *s));
        if super::confirm(
            ctx,
            "Fix these slots by moving keys into a single node?",
            true,
        ) {
            for (slot, nodes) in &multi {
                let slot = *slot;
                let Some(target) = most_keys(ctx, nodes, slot) else {
                    return -1;
                };
                {
                    let t = &ctx.cluster.nodes[target];
                    log_info!(
                        ">>> Covering slot {slot} moving keys to {}:{}\n",
                        t.ip,
                        t.port
                    );
                }
                if !set_slot_owner(&mut ctx.cluster.nodes[target], slot, true) {
                    return -1;
                }
                ctx.cluster.nodes[target].slots[slot] = true;
                let target_name = ctx.cluster.nodes[target].name().to_string();
                for &src in nodes {
                    if src == target {
                        continue;
                    }
                    if set_slot(
                        &mut ctx.cluster.nodes[src],
                        &target_name,
                        slot,
                        "NODE",
                        false,
                    )
                    .is_err()
                        || set_slot(
                            &mut ctx.cluster.nodes[src],
                            &target_name,
                            slot,
                            "IMPORTING",
                            false,
                        )
                        .is_err()
                    {
                        return -1;
                    }
                    let opts = MoveOpts {
                        verbose: true,
                        cold: true,
                        ..MoveOpts::default()
                    };
                    if move_slot(ctx, src, target, slot, opts).is_err() {
                        return -1;
                    }
                    if !clear_slot(&mut ctx.cluster.nodes[src], slot) {
                        return -1;
                    }
                }
                fixed += 1;
            }
        }
    }
    fixed
}

fn random_master(ctx: &Ctx) -> Option<usize> {
    let masters: Vec<usize> = (0..ctx.cluster.nodes.len())
        .filter(|&i| !ctx.cluster.nodes[i].is_slave())
        .collect();
    if masters.is_empty() {
        return None;
    }
    super::seed_time();
    Some(masters[super::rand() % masters.len()])
}

/// Closes a slot left migrating or importing, moving its keys where it makes sense.
fn fix_open_slot(ctx: &mut Ctx, slot: usize) -> bool {
    refuse_with_unreachable(ctx, "open slots");
    log_info!(">>> Fixing open slot {slot}\n");
    let mut owners = Vec::new();
    for i in 0..ctx.cluster.nodes.len() {
        let n = &mut ctx.cluster.nodes[i];
        if n.is_slave() {
            continue;
        }
        if n.slots[slot] {
            owners.push(i);
        } else {
            match n.cmd(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]) {
                Some(Frame::Integer(count)) => {
                    if count > 0 {
                        log_warn!(
                            "*** Found keys about slot {slot} in non-owner node {}:{}!\n",
                            n.ip,
                            n.port
                        );
                        owners.push(i);
                    }
                }
                reply => {
                    n.check(reply);
                    return false;
                }
            }
        }
    }
    let mut owner = if owners.len() == 1 {
        Some(owners[0])
    } else {
        None
    };
    let mut migrating: Vec<usize> = Vec::new();
    let mut importing: Vec<usize> = Vec::new();
    let slot_text = slot.to_string();
    for i in 0..ctx.cluster.nodes.len() {
        let n = &mut ctx.cluster.nodes[i];
        if n.is_slave() {
            continue;
        }
        let same = |s: &String| crate::options::c_int(s) == slot as i64;
        let is_migrating = n.migrating.iter().any(|(s, _)| same(s));
        let is_importing = !is_migrating && n.importing.iter().any(|(s, _)| same(s));
        if is_migrating {
            migrating.push(i);
        } else if is_importing {
            importing.push(i);
        } else if owner != Some(i) {
            match n.cmd(&["CLUSTER", "COUNTKEYSINSLOT", &slot_text]) {
                Some(Frame::Integer(count)) => {
                    if count > 0 {
                        log_warn!(
                            "*** Found keys about slot {slot} in node {}:{}!\n",
                            n.ip,
                            n.port
                        );
                        importing.push(i);
                    }
                }
                reply => {
                    n.check(reply);
                    return false;
                }
            }
        }
    }
    let addrs = |list: &[usize], nodes: &[Node]| {
        list.iter()
            .map(|&i| nodes[i].addr())
            .collect::<Vec<_>>()
            .join(",")
    };
    let migrating_str = addrs(&migrating, &ctx.cluster.nodes);
    let importing_str = addrs(&importing, &ctx.cluster.nodes);
    if !migrating_str.is_empty() {
        println!("Set as migrating in: {migrating_str}");
    }
    if !importing_str.is_empty() {
        println!("Set as importing in: {importing_str}");
    }
    if owner.is_none() {
        log_info!(">>> No single clear owner for the slot, selecting an owner by # of keys...\n");
        let all: Vec<usize> = (0..ctx.cluster.nodes.len()).collect();
        let Some(o) = most_keys(ctx, &all, slot) else {
            log_err!("[ERR] Can't select a slot owner. Impossible to fix.\n");
            return false;
        };
        let n = &mut ctx.cluster.nodes[o];
        log_warn!("*** Configuring {}:{} as the slot owner\n", n.ip, n.port);
        if !clear_slot(n, slot) || !set_slot_owner(n, slot, false) {
            return false;
        }
        n.slots[slot] = true;
        migrating.retain(|&i| i != o);
        importing.retain(|&i| i != o);
        owner = Some(o);
    }
    let Some(owner) = owner else { return false };
    let owner_name = ctx.cluster.nodes[owner].name().to_string();
    if owners.len() > 1 {
        for &n in &owners {
            if n == owner {
                continue;
            }
            if !del_slot(ctx, n, slot) {
                return false;
            }
            ctx.cluster.nodes[n].slots[slot] = false;
            let node = &mut ctx.cluster.nodes[n];
            if set_slot(node, &owner_name, slot, "node", false).is_err()
                || set_slot(node, &owner_name, slot, "importing", false).is_err()
            {
                return false;
            }
            importing.retain(|&i| i != n);
            importing.push(n);
            migrating.retain(|&i| i != n);
        }
    }
    let verbose = MoveOpts {
        verbose: true,
        ..MoveOpts::default()
    };
    if migrating.len() == 1 && importing.len() == 1 {
        let (src, dst) = (migrating[0], importing[0]);
        log_info!(
            ">>> Case 1: Moving slot {slot} from {} to {}\n",
            ctx.cluster.nodes[src].addr(),
            ctx.cluster.nodes[dst].addr()
        );
        let opts = MoveOpts {
            update: true,
            ..verbose
        };
        return move_slot(ctx, src, dst, slot, opts).is_ok();
    }
    if migrating.is_empty() && !importing.is_empty() {
        log_info!(
            ">>> Case 2: Moving all the {slot} slot keys to its owner {}\n",
            ctx.cluster.nodes[owner].addr()
        );
        let opts = MoveOpts {
            cold: true,
            ..verbose
        };
        for &n in &importing {
            if n == owner {
                continue;
            }
            if move_slot(ctx, n, owner, slot, opts).is_err() {
                return false;
            }
            log_info!(
                ">>> Setting {slot} as STABLE in {}\n",
                ctx.cluster.nodes[n].addr()
            );
            if !clear_slot(&mut ctx.cluster.nodes[n], slot) {
                return false;
            }
        }
        for i in 0..ctx.cluster.nodes.len() {
            if i == owner || ctx.cluster.nodes[i].is_slave() {
                continue;
            }
            if set_slot(&mut ctx.cluster.nodes[i], &owner_name, slot, "NODE", false).is_err() {
                return false;
            }
        }
        return true;
    }
    if migrating.len() == 1 && importing.len() > 1 {
        let src = migrating[0];
        let target_id = ctx.cluster.nodes[src]
            .migrating
            .iter()
            .find(|(s, _)| crate::options::c_int(s) == slot as i64)
            .map(|(_, id)| id.clone())
            .unwrap_or_default();
        let mut dst = None;
        let mut try_to_fix = true;
        for &n in &importing {
            if count_keys(&mut ctx.cluster.nodes[n], slot) > 0 {
                try_to_fix = false;
                break;
            }
            if ctx.cluster.nodes[n].name() == target_id {
                dst = Some(n);
            }
        }
        if try_to_fix {
            match dst {
                Some(dst) => {
                    log_info!(
                        ">>> Case 3: Moving slot {slot} from {} to {} and closing it on all the other importing nodes.\n",
                        ctx.cluster.nodes[src].addr(),
                        ctx.cluster.nodes[dst].addr()
                    );
                    if move_slot(ctx, src, dst, slot, verbose).is_err() {
                        return false;
                    }
                    for &n in &importing {
                        if n != dst && !clear_slot(&mut ctx.cluster.nodes[n], slot) {
                            return false;
                        }
                    }
                }
                None => {
                    log_info!(
                        ">>> Case 3: Closing slot {slot} on both migrating and importing nodes.\n"
                    );
                    if !clear_slot(&mut ctx.cluster.nodes[src], slot) {
                        return false;
                    }
                    for &n in &importing {
                        if !clear_slot(&mut ctx.cluster.nodes[n], slot) {
                            return false;
                        }
                    }
                }
            }
            return true;
        }
    } else {
        let mut try_to_close = importing.is_empty() && migrating.len() == 1;
        if try_to_close && owner != migrating[0] {
            let n = &mut ctx.cluster.nodes[migrating[0]];
            match n.cmd(&["CLUSTER", "GETKEYSINSLOT", &slot_text, "10"]) {
                Some(Frame::Array(keys)) => try_to_close = keys.is_empty(),
                reply => {
                    n.check(reply);
                    return false;
                }
            }
        }
        if try_to_close {
            let n = &mut ctx.cluster.nodes[migrating[0]];
            log_info!(">>> Case 4: Closing slot {slot} on {}\n", n.addr());
            return n.ok(&["CLUSTER", "SETSLOT", &slot_text, "STABLE"]);
        }
    }
    log_err!(
        "[ERR] Sorry, redis-cli can't fix this slot yet (work in progress). Slot is set as migrating in {migrating_str}, as importing in {importing_str}, owner is {}\n",
        ctx.cluster.nodes[owner].addr()
    );
    false
}

/// Makes the node with the most keys the only owner of `slot`, moving the others' keys.
fn fix_multiple_owners(ctx: &mut Ctx, slot: usize, owners: &[usize]) -> bool {
    log_info!(">>> Fixing multiple owners for slot {slot}...\n");
    let owner = most_keys(ctx, owners, slot).unwrap_or(owners[0]);
    log_info!(
        ">>> Setting slot {slot} owner: {}\n",
        ctx.cluster.nodes[owner].addr()
    );
    if !set_slot_owner(&mut ctx.cluster.nodes[owner], slot, false) {
        return false;
    }
    let owner_name = ctx.cluster.nodes[owner].name().to_string();
    let mut success = false;
    for i in 0..ctx.cluster.nodes.len() {
        if i == owner || ctx.cluster.nodes[i].is_slave() {
            continue;
        }
        let count = count_keys(&mut ctx.cluster.nodes[i], slot);
        success = count >= 0;
        if !success {
            break;
        }
        del_slot(ctx, i, slot);
        if set_slot(&mut ctx.cluster.nodes[i], &owner_name, slot, "node", false).is_err() {
            return false;
        }
        if count > 0 {
            let opts = MoveOpts {
                verbose: true,
                cold: true,
                ..MoveOpts::default()
            };
            success = move_slot(ctx, i, owner, slot, opts).is_ok();
            if !success {
                break;
            }
        }
    }
    success
}
