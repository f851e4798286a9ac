//! Moving slots between masters (SETSLOT + MIGRATE), `reshard` and `rebalance`.

use std::io::BufRead;

use common::resp::Frame;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::node::{Node, ReplyError, SLOTS};
use super::{
    Ctx, FLAG_EMPTYMASTER, FLAG_FIX, FLAG_REPLACE, FLAG_SIMULATE, FLAG_YES, log_err, log_info,
    log_warn,
};

/// How `move_slot` works and reports.
#[derive(Clone, Copy, Default)]
pub(super) struct MoveOpts {
    /// A dot per moved key.
    pub(super) verbose: bool,
    /// Move the keys only, without opening the slot or giving it to the target.
    pub(super) cold: bool,
    /// Update the manager's view of both nodes' slots.
    pub(super) update: bool,
    /// No "Moving slot" line.
    pub(super) quiet: bool,
    /// The caller prints the error (hiredis's `err` out-parameter); else it is printed here.
    pub(super) report: bool,
}

/// An indicatif bar when stdout is a terminal.
pub(super) fn progress_bar(len: usize) -> Option<ProgressBar> {
    if !super::stdout_tty() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stdout());
    if bar.is_hidden() {
        // A terminal indicatif cannot redraw on (TERM=dumb): Redis's plain lines instead.
        return None;
    }
    bar.set_style(
        ProgressStyle::with_template("[{elapsed_precise}] {bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}

/// Two nodes of the cluster at once.
fn pair(nodes: &mut [Node], a: usize, b: usize) -> (&mut Node, &mut Node) {
    if a < b {
        let (x, y) = nodes.split_at_mut(b);
        (&mut x[a], &mut y[0])
    } else {
        let (x, y) = nodes.split_at_mut(a);
        (&mut y[0], &mut x[b])
    }
}

/// CLUSTER SETSLOT `slot` `status` `id` on `node`; prints the error unless `report`.
pub(super) fn set_slot(
    node: &mut Node,
    id: &str,
    slot: usize,
    status: &str,
    report: bool,
) -> Result<(), ReplyError> {
    match node.cmd(&["CLUSTER", "SETSLOT", &slot.to_string(), status, id]) {
        None if report => Err(Some("CLUSTER SETSLOT failed to run".to_string())),
        None => Err(None),
        Some(Frame::Error(e)) => {
            let e = String::from_utf8_lossy(&e).into_owned();
            if report {
                Err(Some(e))
            } else {
                node.print_error(&e);
                Err(None)
            }
        }
        Some(_) => Ok(()),
    }
}

/// Moves `slot` from `source` to `target`.
pub(super) fn move_slot(
    ctx: &mut Ctx,
    source: usize,
    target: usize,
    slot: usize,
    opts: MoveOpts,
) -> Result<(), ReplyError> {
    let bar = ctx.bar.clone();
    {
        let (src, dst) = (&ctx.cluster.nodes[source], &ctx.cluster.nodes[target]);
        if !opts.quiet {
            match &bar {
                Some(b) => b.set_message(format!(
                    "Moving slot {slot} from {}:{} to {}:{}",
                    src.ip, src.port, dst.ip, dst.port
                )),
                None => {
                    print!(
                        "Moving slot {slot} from {}:{} to {}:{}: ",
                        src.ip, src.port, dst.ip, dst.port
                    );
                    super::flush();
                }
            }
        }
    }
    let source_name = ctx.cluster.nodes[source].name().to_string();
    let target_name = ctx.cluster.nodes[target].name().to_string();
    if !opts.cold {
        set_slot(
            &mut ctx.cluster.nodes[target],
            &source_name,
            slot,
            "importing",
            opts.report,
        )?;
        set_slot(
            &mut ctx.cluster.nodes[source],
            &target_name,
            slot,
            "migrating",
            opts.report,
        )?;
    }
    let migrated = migrate_keys_in_slot(ctx, source, target, slot, opts);
    if !opts.quiet && bar.is_none() {
        println!();
    }
    migrated?;
    if !opts.cold {
        // The target first: it propagates the change, and a crash cannot leave the slot
        // without an owner.
        set_slot(
            &mut ctx.cluster.nodes[target],
            &target_name,
            slot,
            "node",
            opts.report,
        )?;
        match set_slot(
            &mut ctx.cluster.nodes[source],
            &target_name,
            slot,
            "node",
            opts.report,
        ) {
            Err(Some(e)) if e.starts_with("ERR Please use SETSLOT only with masters.") => {}
            Err(e) if opts.report => return Err(e),
            _ => {}
        }
        for i in 0..ctx.cluster.nodes.len() {
            if i == source || i == target || ctx.cluster.nodes[i].is_slave() {
                continue;
            }
            set_slot(
                &mut ctx.cluster.nodes[i],
                &target_name,
                slot,
                "node",
                opts.report,
            )?;
        }
    }
    if opts.update {
        ctx.cluster.nodes[source].slots[slot] = false;
        ctx.cluster.nodes[target].slots[slot] = true;
    }
    Ok(())
}

/// MIGRATE of `keys` from `source` to `target`.
fn migrate(
    timeout: i64,
    auth: &super::Auth,
    source: &mut Node,
    target: &Node,
    keys: &[Vec<u8>],
    replace: bool,
) -> Option<Frame> {
    let mut args: Vec<Vec<u8>> = vec![
        b"MIGRATE".to_vec(),
        target.ip.as_bytes().to_vec(),
        target.port.to_string().into_bytes(),
        Vec::new(),
        b"0".to_vec(),
        (timeout as i32).to_string().into_bytes(),
    ];
    if replace {
        args.push(b"REPLACE".to_vec());
    }
    if let Some(pass) = &auth.pass {
        match &auth.user {
            Some(user) => {
                args.push(b"AUTH2".to_vec());
                args.push(user.clone());
            }
            None => args.push(b"AUTH".to_vec()),
        }
        args.push(pass.clone());
    }
    args.push(b"KEYS".to_vec());
    args.extend(keys.iter().cloned());
    source.cmd(&args)
}

/// Keys whose values differ on the two nodes (DEBUG DIGEST-VALUE), `None` on error.
fn compare_values(a: &mut Node, b: &mut Node, keys: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    let mut args = vec![b"DEBUG".to_vec(), b"DIGEST-VALUE".to_vec()];
    args.extend(keys.iter().cloned());
    let r1 = a.cmd(&args)?;
    let r2 = b.cmd(&args)?;
    let mut ok = true;
    for (node, r) in [(&*a, &r1), (&*b, &r2)] {
        if let Frame::Error(e) = r {
            node.print_error(&String::from_utf8_lossy(e));
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let (Frame::Array(h1), Frame::Array(h2)) = (r1, r2) else {
        return None;
    };
    let zero = [b'0'; 40];
    let mut diffs = Vec::new();
    for ((key, x), y) in keys.iter().zip(&h1).zip(&h2) {
        let (Frame::Bulk(x) | Frame::Simple(x), Frame::Bulk(y) | Frame::Simple(y)) = (x, y) else {
            continue;
        };
        if x[..] == zero[..] || y[..] == zero[..] {
            continue;
        }
        if x != y {
            diffs.push(key.clone());
        }
    }
    Some(diffs)
}

/// The node that serves `slot` according to `node` (CLUSTER SLOTS).
pub(super) fn slot_owner(
    nodes: &mut [Node],
    node: usize,
    slot: usize,
) -> Result<Option<usize>, ReplyError> {
    let reply = nodes[node].call(&["CLUSTER", "SLOTS"])?;
    let Frame::Array(ranges) = reply else {
        return Ok(None);
    };
    for range in ranges {
        let Frame::Array(parts) = range else { continue };
        let (Some(Frame::Integer(from)), Some(Frame::Integer(to)), Some(Frame::Array(owner))) =
            (parts.first(), parts.get(1), parts.get(2))
        else {
            continue;
        };
        if (slot as i64) < *from || (slot as i64) > *to {
            continue;
        }
        let found = match owner.get(2) {
            Some(Frame::Bulk(id)) => {
                let id = String::from_utf8_lossy(id).to_ascii_lowercase();
                nodes
                    .iter()
                    .position(|n| n.name.as_deref() == Some(id.as_str()))
            }
            _ => match (owner.first(), owner.get(1)) {
                (Some(Frame::Bulk(ip)), Some(Frame::Integer(port))) => nodes
                    .iter()
                    .position(|n| n.ip.as_bytes() == &ip[..] && n.port == *port),
                _ => None,
            },
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// MIGRATEs every key of `slot` from `source` to `target`, `pipeline` keys at a time.
fn migrate_keys_in_slot(
    ctx: &mut Ctx,
    source: usize,
    target: usize,
    slot: usize,
    opts: MoveOpts,
) -> Result<(), ReplyError> {
    let do_fix = ctx.opts.flags & FLAG_FIX != 0;
    let do_replace = ctx.opts.flags & FLAG_REPLACE != 0;
    let pipeline = (ctx.opts.pipeline as i32).to_string();
    loop {
        let reply = ctx.cluster.nodes[source].cmd(&[
            "CLUSTER",
            "GETKEYSINSLOT",
            &slot.to_string(),
            &pipeline,
        ]);
        let keys: Vec<Vec<u8>> = match reply {
            None => return Err(None),
            Some(Frame::Error(e)) => {
                let e = String::from_utf8_lossy(&e).into_owned();
                if opts.report {
                    ctx.cluster.nodes[source].print_error(&e);
                    return Err(Some(e));
                }
                return Err(None);
            }
            Some(Frame::Array(items)) => items
                .into_iter()
                .filter_map(|k| match k {
                    Frame::Bulk(k) => Some(k),
                    _ => None,
                })
                .collect(),
            Some(_) => return Err(None),
        };
        if keys.is_empty() {
            return Ok(());
        }
        let (src, dst) = pair(&mut ctx.cluster.nodes, source, target);
        let first = migrate(ctx.opts.timeout, &ctx.auth, src, dst, &keys, false);
        let Some(first) = first else { continue };
        if let Frame::Error(e) = &first {
            let err = String::from_utf8_lossy(e).into_owned();
            let is_busy = err.contains("BUSYKEY");
            let mut not_served = false;
            if !is_busy {
                match slot_owner(&mut ctx.cluster.nodes, source, slot) {
                    Ok(None) => not_served = true,
                    Err(Some(e)) => ctx.cluster.nodes[source].print_error(&e),
                    _ => {}
                }
            }
            let mut last = Some(first.clone());
            if is_busy || not_served {
                let (src, dst) = pair(&mut ctx.cluster.nodes, source, target);
                if do_fix && not_served {
                    log_warn!(
                        "*** Slot was not served, setting owner to node {}:{}.\n",
                        dst.ip,
                        dst.port
                    );
                    let name = dst.name().to_string();
                    let _ = set_slot(src, &name, slot, "node", false);
                }
                if is_busy {
                    log_warn!("\n*** Target key exists\n");
                    if !do_replace {
                        log_warn!("*** Checking key values on both nodes...\n");
                        let Some(diffs) = compare_values(src, dst, &keys) else {
                            log_err!("*** Value check failed!\n");
                            return Err(None);
                        };
                        if !diffs.is_empty() {
                            let text = format!(
                                "*** Found {} key(s) in both source node and target node having different values.\n    Source node: {}:{}\n    Target node: {}:{}\n    Keys(s):\n",
                                diffs.len(),
                                src.ip,
                                src.port,
                                dst.ip,
                                dst.port
                            );
                            log_err!("{text}");
                            for k in &diffs {
                                log_err!("    - {}\n", String::from_utf8_lossy(k));
                            }
                            log_err!(
                                "Please fix the above key(s) manually and try again or relaunch the command \nwith --cluster-replace option to force key overriding.\n"
                            );
                            return Err(None);
                        }
                    }
                    log_warn!("*** Replacing target keys...\n");
                }
                last = migrate(ctx.opts.timeout, &ctx.auth, src, dst, &keys, is_busy);
                if matches!(last, Some(ref f) if !matches!(f, Frame::Error(_))) {
                    if opts.verbose {
                        dots(ctx, keys.len());
                    }
                    continue;
                }
            }
            if let Some(Frame::Error(e)) = last {
                let e = String::from_utf8_lossy(&e).into_owned();
                println!();
                ctx.cluster.nodes[source].print_error(&e);
                return Err(if opts.report { Some(e) } else { None });
            }
            return Err(None);
        }
        if opts.verbose {
            dots(ctx, keys.len());
        }
    }
}

fn dots(ctx: &Ctx, n: usize) {
    if ctx.bar.is_none() {
        print!("{}", ".".repeat(n));
        super::flush();
    }
}

/// Which slots to take from which sources: each gives its share of `numslots`, the largest
/// rounding up, the others down.
pub(super) fn reshard_table(
    nodes: &[Node],
    sources: &[usize],
    numslots: i64,
) -> Vec<(usize, usize)> {
    let total: i64 = sources.iter().map(|&s| nodes[s].slots_count).sum();
    let mut sorted = sources.to_vec();
    // glibc's qsort is a merge sort here, so equal counts keep their order.
    sorted.sort_by(|&a, &b| nodes[b].slots_count.cmp(&nodes[a].slots_count));
    let mut moved = Vec::new();
    for (i, &src) in sorted.iter().enumerate() {
        let share = numslots as f32 / total as f32 * nodes[src].slots_count as f32;
        let max = if i == 0 { share.ceil() } else { share.floor() } as i64;
        for (count, slot) in (0..SLOTS).filter(|&s| nodes[src].slots[s]).enumerate() {
            if count as i64 >= max || moved.len() as i64 >= numslots {
                break;
            }
            moved.push((src, slot));
        }
    }
    moved
}

/// A line typed at a prompt, cut as redis-cli's `read(fd, buf, max)` cuts it.
fn prompt_line(max: usize) -> Option<String> {
    let mut line = Vec::new();
    let n = std::io::stdin().lock().read_until(b'\n', &mut line).ok()?;
    if n == 0 {
        return None;
    }
    line.truncate(max);
    line.pop();
    Some(String::from_utf8_lossy(&line).into_owned())
}

/// A master named by `id` for resharding; `Err(true)` when it is unknown.
fn node_for_resharding(ctx: &Ctx, id: &str, target: Option<usize>) -> Result<usize, bool> {
    let node = ctx.cluster.by_name(id);
    let Some(node) = node.filter(|&n| !ctx.cluster.nodes[n].is_slave()) else {
        log_err!("*** The specified node ({id}) is not known or not a master, please retry.\n");
        return Err(true);
    };
    if let Some(t) = target {
        if ctx.cluster.nodes[node].name == ctx.cluster.nodes[t].name {
            log_err!("*** It is not possible to use the target node as source node.\n");
            return Err(false);
        }
    }
    Ok(node)
}

pub(super) fn reshard(ctx: &mut Ctx, args: &[String]) -> bool {
    let Some((ip, port)) = super::host_from_args(args) else {
        return super::invalid_host();
    };
    if !ctx.cluster.load_from(&ctx.auth, Node::new(&ip, port, 0)) {
        return false;
    }
    super::check::check_cluster(ctx, false);
    if !ctx.cluster.errors.is_empty() {
        super::flush();
        eprintln!("*** Please fix your cluster problems before resharding");
        return false;
    }
    let mut slots = ctx.opts.slots;
    if slots == 0 {
        while slots <= 0 || slots > SLOTS as i64 {
            print!("How many slots do you want to move (from 1 to {SLOTS})? ");
            super::flush();
            let Some(line) = prompt_line(6) else {
                return false;
            };
            slots = i64::from(crate::options::c_int(&line) as i32);
        }
    }
    let mut to = ctx.opts.to.clone();
    while to.is_none() {
        print!("What is the receiving node ID? ");
        super::flush();
        let Some(line) = prompt_line(255) else {
            return false;
        };
        if !line.is_empty() {
            to = Some(line);
        }
    }
    let to = to.unwrap_or_default();
    let Ok(target) = node_for_resharding(ctx, &to, None) else {
        return false;
    };
    let mut sources = Vec::new();
    let mut all = false;
    match ctx.opts.from.clone() {
        None => {
            println!("Please enter all the source node IDs.");
            println!("  Type 'all' to use all the nodes as source nodes for the hash slots.");
            println!("  Type 'done' once you entered all the source nodes IDs.");
            loop {
                print!("Source node #{}: ", sources.len() + 1);
                super::flush();
                let Some(line) = prompt_line(255) else {
                    return false;
                };
                match line.as_str() {
                    "done" => break,
                    "all" => {
                        all = true;
                        break;
                    }
                    id => match node_for_resharding(ctx, id, Some(target)) {
                        Ok(src) => sources.push(src),
                        Err(true) => return false,
                        Err(false) => {}
                    },
                }
            }
        }
        Some(from) => {
            let parts: Vec<&str> = from.split(',').collect();
            let last = parts.len() - 1;
            for (i, id) in parts.iter().enumerate() {
                if i == last && id.is_empty() {
                    break;
                }
                if *id == "all" {
                    all = true;
                    break;
                }
                match node_for_resharding(ctx, id, Some(target)) {
                    Ok(src) => sources.push(src),
                    Err(true) => return false,
                    Err(false) => {}
                }
            }
        }
    }
    if all {
        let target_name = ctx.cluster.nodes[target].name.clone();
        sources = (0..ctx.cluster.nodes.len())
            .filter(|&i| {
                let n = &ctx.cluster.nodes[i];
                !n.is_slave() && n.replicate.is_none() && n.name != target_name
            })
            .collect();
    }
    if sources.is_empty() {
        eprintln!("*** No source nodes given, operation aborted.");
        return false;
    }
    println!("\nReady to move {slots} slots.");
    println!("  Source nodes:");
    for &s in &sources {
        println!("{}", ctx.cluster.nodes[s].describe(4));
    }
    println!("  Destination node:");
    println!("{}", ctx.cluster.nodes[target].describe(4));
    let table = reshard_table(&ctx.cluster.nodes, &sources, slots);
    println!("  Resharding plan:");
    for &(src, slot) in &table {
        println!(
            "    Moving slot {slot} from {}",
            ctx.cluster.nodes[src].name()
        );
    }
    if ctx.opts.flags & FLAG_YES == 0 {
        print!("Do you want to proceed with the proposed reshard plan (yes/no)? ");
        super::flush();
        match super::read_answer(4) {
            Some(a) if a.get(..3) == Some(b"yes") => {}
            _ => return false,
        }
    }
    ctx.bar = progress_bar(table.len());
    let opts = MoveOpts {
        verbose: true,
        report: true,
        ..MoveOpts::default()
    };
    for &(src, slot) in &table {
        if let Err(e) = move_slot(ctx, src, target, slot, opts) {
            if let Some(bar) = ctx.bar.take() {
                bar.abandon();
            }
            if let Some(e) = e {
                log_err!("clusterManagerMoveSlot failed: {e}\n");
            }
            return false;
        }
        if let Some(bar) = &ctx.bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = ctx.bar.take() {
        bar.finish();
    }
    true
}

pub(super) fn rebalance(ctx: &mut Ctx, args: &[String]) -> bool {
    let Some((ip, port)) = super::host_from_args(args) else {
        return super::invalid_host();
    };
    if !ctx.cluster.load_from(&ctx.auth, Node::new(&ip, port, 0)) {
        return false;
    }
    for weight in ctx.opts.weights.clone().unwrap_or_default() {
        let Some((name, w)) = weight.split_once('=') else {
            log_err!("*** invalid input {weight}\n");
            return false;
        };
        let Some(n) = ctx.cluster.by_prefix(name) else {
            log_err!("*** No such master node {name}\n");
            return false;
        };
        ctx.cluster.nodes[n].weight = super::c_float(w) as f32;
    }
    let use_empty = ctx.opts.flags & FLAG_EMPTYMASTER != 0;
    let mut total_weight: f32 = 0.0;
    let mut involved = Vec::new();
    for (i, n) in ctx.cluster.nodes.iter_mut().enumerate() {
        if n.is_slave() || n.replicate.is_some() {
            continue;
        }
        if !use_empty && n.slots_count == 0 {
            n.weight = 0.0;
            continue;
        }
        total_weight += n.weight;
        involved.push(i);
    }
    super::check::check_cluster(ctx, true);
    if !ctx.cluster.errors.is_empty() {
        log_err!("*** Please fix your cluster problems before rebalancing\n");
        return false;
    }
    let threshold = ctx.opts.threshold;
    let mut threshold_reached = false;
    let mut total_balance = 0;
    for &i in &involved {
        let n = &mut ctx.cluster.nodes[i];
        let expected = ((SLOTS as f32 / total_weight) * n.weight) as i32 as i64;
        n.balance = n.slots_count - expected;
        total_balance += n.balance;
        if threshold > 0.0 {
            if n.slots_count > 0 {
                let err_perc =
                    (100.0 - (100.0 * expected as f64 / n.slots_count as f64)).abs() as f32;
                if err_perc > threshold {
                    threshold_reached = true;
                }
            } else if expected > 1 {
                threshold_reached = true;
            }
        }
    }
    if !threshold_reached {
        log_warn!(
            "*** No rebalancing needed! All nodes are within the {:.2}% threshold.\n",
            f64::from(threshold)
        );
        return true;
    }
    while total_balance > 0 {
        for &i in &involved {
            let n = &mut ctx.cluster.nodes[i];
            if n.balance <= 0 && total_balance > 0 {
                n.balance -= 1;
                total_balance -= 1;
            }
        }
    }
    let mut weighted = involved.clone();
    weighted.sort_by_key(|&i| ctx.cluster.nodes[i].balance);
    log_info!(
        ">>> Rebalancing across {} nodes. Total weight = {:.2}\n",
        involved.len(),
        f64::from(total_weight)
    );
    if ctx.verbose {
        for &i in &weighted {
            let n = &ctx.cluster.nodes[i];
            println!("{}:{} balance is {} slots", n.ip, n.port, n.balance);
        }
    }
    let simulate = ctx.opts.flags & FLAG_SIMULATE != 0;
    let mut dst_idx = 0;
    let mut src_idx = weighted.len().saturating_sub(1);
    while dst_idx < src_idx {
        let (dst, src) = (weighted[dst_idx], weighted[src_idx]);
        let numslots = ctx.cluster.nodes[dst]
            .balance
            .abs()
            .min(ctx.cluster.nodes[src].balance.abs());
        if numslots > 0 {
            {
                let (s, d) = (&ctx.cluster.nodes[src], &ctx.cluster.nodes[dst]);
                println!(
                    "Moving {numslots} slots from {}:{} to {}:{}",
                    s.ip, s.port, d.ip, d.port
                );
            }
            let table = reshard_table(&ctx.cluster.nodes, &[src], numslots);
            if table.len() as i64 != numslots {
                log_err!("*** Assertion failed: Reshard table != number of slots");
                return false;
            }
            if simulate {
                print!("{}", "#".repeat(table.len()));
            } else {
                ctx.bar = progress_bar(table.len());
                let opts = MoveOpts {
                    quiet: true,
                    update: true,
                    report: true,
                    ..MoveOpts::default()
                };
                for &(from, slot) in &table {
                    if let Err(e) = move_slot(ctx, from, dst, slot, opts) {
                        if let Some(bar) = ctx.bar.take() {
                            bar.abandon();
                        }
                        log_err!(
                            "*** clusterManagerMoveSlot: {}\n",
                            e.as_deref().unwrap_or("(null)")
                        );
                        return false;
                    }
                    match &ctx.bar {
                        Some(bar) => bar.inc(1),
                        None => {
                            print!("#");
                            super::flush();
                        }
                    }
                }
                if let Some(bar) = ctx.bar.take() {
                    bar.finish_and_clear();
                }
            }
            println!();
        }
        ctx.cluster.nodes[dst].balance += numslots;
        ctx.cluster.nodes[src].balance -= numslots;
        if ctx.cluster.nodes[dst].balance == 0 {
            dst_idx += 1;
        }
        if ctx.cluster.nodes[src].balance == 0 {
            src_idx = src_idx.saturating_sub(1);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(slots: std::ops::Range<usize>) -> Node {
        let mut n = Node::new("127.0.0.1", 7000, 0);
        for s in slots {
            n.slots[s] = true;
            n.slots_count += 1;
        }
        n
    }

    #[test]
    fn the_largest_source_rounds_up_the_others_down() {
        let nodes = vec![master(0..5461), master(5461..10923), master(10923..16384)];
        let table = reshard_table(&nodes, &[0, 1, 2], 1000);
        assert_eq!(table.len(), 1000);
        // 5462 slots give ceil(333.4), the others floor(333.3).
        assert_eq!(table.iter().filter(|(s, _)| *s == 1).count(), 334);
        assert_eq!(table[0], (1, 5461));
        assert_eq!(table.iter().filter(|(s, _)| *s == 0).count(), 333);
    }
}
