//! One cluster node as the manager sees it, and the cluster loaded from a starting node.

use common::resp::Frame;

use super::{Auth, log_err, log_warn};
use crate::connection::{Connection, Target, describe};
use crate::options::c_int;

pub(super) const SLOTS: usize = common::cluster_slot::SLOTS;

pub(super) const MYSELF: u32 = 1 << 0;
pub(super) const SLAVE: u32 = 1 << 1;
pub(super) const FRIEND: u32 = 1 << 2;
pub(super) const NOADDR: u32 = 1 << 3;
pub(super) const DISCONNECT: u32 = 1 << 4;
pub(super) const FAIL: u32 = 1 << 5;

/// How a command failed: `None` when the connection did (hiredis's NULL reply).
pub(super) type ReplyError = Option<String>;

#[derive(Debug)]
pub(super) struct Node {
    pub(super) conn: Option<Connection>,
    pub(super) name: Option<String>,
    pub(super) ip: String,
    pub(super) port: i64,
    pub(super) bus_port: i64,
    pub(super) current_epoch: u64,
    pub(super) flags: u32,
    pub(super) flags_str: Vec<String>,
    pub(super) replicate: Option<String>,
    pub(super) dirty: bool,
    pub(super) slots: Vec<bool>,
    pub(super) slots_count: i64,
    pub(super) replicas_count: i64,
    /// (slot, destination id)
    pub(super) migrating: Vec<(String, String)>,
    /// (slot, source id)
    pub(super) importing: Vec<(String, String)>,
    pub(super) weight: f32,
    pub(super) balance: i64,
}

impl Node {
    pub(super) fn new(ip: &str, port: i64, bus_port: i64) -> Node {
        Node {
            conn: None,
            name: None,
            ip: ip.to_string(),
            port,
            bus_port: if bus_port != 0 {
                bus_port
            } else {
                port + 10000
            },
            current_epoch: 0,
            flags: 0,
            flags_str: Vec::new(),
            replicate: None,
            dirty: false,
            slots: vec![false; SLOTS],
            slots_count: 0,
            replicas_count: 0,
            migrating: Vec::new(),
            importing: Vec::new(),
            weight: 1.0,
            balance: 0,
        }
    }

    pub(super) fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    pub(super) fn is_slave(&self) -> bool {
        self.flags & SLAVE != 0
    }

    pub(super) fn addr(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// Connects and authenticates, printing why not.
    pub(super) fn connect(&mut self, auth: &Auth) -> bool {
        self.conn = None;
        let conn = match u16::try_from(self.port) {
            Ok(port) => Connection::connect(&Target::Tcp {
                host: self.ip.clone(),
                port,
            })
            .map_err(|e| describe(&e)),
            Err(_) => Err("Servname not supported for ai_socktype".to_string()),
        };
        match conn {
            Ok(c) => self.conn = Some(c),
            Err(e) => {
                eprintln!(
                    "Could not connect to Redis at {}:{}: {e}",
                    self.ip, self.port
                );
                return false;
            }
        }
        if let Some(pass) = &auth.pass {
            let reply = match &auth.user {
                None => self.cmd(&[&b"AUTH"[..], pass]),
                Some(user) => self.cmd(&[&b"AUTH"[..], user, pass]),
            };
            if !self.check(reply) {
                return false;
            }
        }
        true
    }

    /// Sends a command; `None` when the connection failed.
    pub(super) fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Option<Frame> {
        self.conn.as_mut()?.command(args).ok()
    }

    /// The reply, or why it failed.
    pub(super) fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame, ReplyError> {
        match self.cmd(args) {
            None => Err(None),
            Some(Frame::Error(e)) => Err(Some(String::from_utf8_lossy(&e).into_owned())),
            Some(f) => Ok(f),
        }
    }

    /// `clusterManagerCheckRedisReply` without an error out-parameter: prints the error.
    pub(super) fn check(&self, reply: Option<Frame>) -> bool {
        match reply {
            None => false,
            Some(Frame::Error(e)) => {
                self.print_error(&String::from_utf8_lossy(&e));
                false
            }
            Some(_) => true,
        }
    }

    /// Sends a command and prints its error, if any.
    pub(super) fn ok<A: AsRef<[u8]>>(&mut self, args: &[A]) -> bool {
        let reply = self.cmd(args);
        self.check(reply)
    }

    pub(super) fn print_error(&self, err: &str) {
        log_err!(
            "Node {}:{} replied with error:\n{}\n",
            self.ip,
            self.port,
            err
        );
    }

    /// INFO's text.
    fn info(&mut self) -> Result<String, ReplyError> {
        self.call(&["INFO"]).map(|f| text(&f))
    }

    pub(super) fn is_cluster(&mut self) -> Result<bool, ReplyError> {
        let info = self.info()?;
        Ok(info_field(&info, "cluster_enabled") != 0)
    }

    /// No keys in db0 and knows no other node.
    pub(super) fn is_empty(&mut self) -> Result<bool, ReplyError> {
        let info = self.info()?;
        if info.contains("db0:") {
            return Ok(false);
        }
        let info = text(&self.call(&["CLUSTER", "INFO"])?);
        Ok(info_field(&info, "cluster_known_nodes") == 1)
    }

    /// Loads this node's view from CLUSTER NODES; with `friends`, returns the other nodes.
    pub(super) fn load_info(&mut self, friends: bool) -> Result<Vec<Node>, ReplyError> {
        let reply = text(&self.call(&["CLUSTER", "NODES"])?);
        let mut others = Vec::new();
        let mut rest = reply.as_str();
        while let Some(nl) = rest.find('\n') {
            let line = &rest[..nl];
            rest = &rest[nl + 1..];
            let mut fields: Vec<&str> = Vec::with_capacity(8);
            let mut tail = line;
            while let Some(sp) = tail.find(' ') {
                fields.push(&tail[..sp]);
                tail = &tail[sp + 1..];
                if fields.len() == 8 {
                    break;
                }
            }
            let has_slots = fields.len() == 8;
            if fields.len() < 3 {
                return Err(None);
            }
            let Some((ip, port, bus_port)) = super::parse_address(fields[1]) else {
                eprintln!("Error: invalid CLUSTER NODES reply");
                return Err(None);
            };
            let flags = fields[2];
            let myself = flags.contains("myself");
            let mut friend: Option<Node> = None;
            let current: &mut Node = if myself {
                self.bus_port = bus_port;
                self.flags |= MYSELF;
                self.slots.iter_mut().for_each(|s| *s = false);
                self.slots_count = 0;
                if has_slots {
                    self.parse_slots(tail);
                }
                self.dirty = false;
                self
            } else if !friends {
                if self.flags & MYSELF == 0 {
                    continue;
                }
                break;
            } else {
                let f = friend.insert(Node::new(&ip, port, bus_port));
                f.flags |= FRIEND;
                f
            };
            current.name = Some(fields[0].to_string());
            current.flags_str.clear();
            for flag in flags.split(',').filter(|f| !f.is_empty()) {
                match flag {
                    "noaddr" => current.flags |= NOADDR,
                    "disconnected" => current.flags |= DISCONNECT,
                    "fail" => current.flags |= FAIL,
                    "slave" => {
                        current.flags |= SLAVE;
                        if let Some(master) = fields.get(3) {
                            current.replicate = Some(master.to_string());
                        }
                    }
                    _ => {}
                }
                current.flags_str.push(flag.to_string());
            }
            if let Some(epoch) = fields.get(6) {
                current.current_epoch = c_int(epoch).max(0) as u64;
            }
            if let Some(f) = friend {
                others.push(f);
            } else if !friends {
                break;
            }
        }
        Ok(others)
    }

    fn parse_slots(&mut self, defs: &str) {
        for def in defs.split(' ') {
            if let Some(open) = def.strip_prefix('[') {
                let open = open.strip_suffix(']').unwrap_or(open);
                if let Some((slot, dst)) = open.split_once("->-") {
                    self.migrating.push((slot.to_string(), dst.to_string()));
                } else if let Some((slot, src)) = open.split_once("-<-") {
                    self.importing.push((slot.to_string(), src.to_string()));
                }
            } else if let Some((start, stop)) = def.split_once('-') {
                let (start, stop) = (c_int(start), c_int(stop));
                self.slots_count += stop - (start - 1);
                for slot in start.max(0)..=stop.min(SLOTS as i64 - 1) {
                    self.slots[slot as usize] = true;
                }
            } else if !def.is_empty() {
                let slot = c_int(def);
                if (0..SLOTS as i64).contains(&slot) {
                    self.slots[slot as usize] = true;
                }
                self.slots_count += 1;
            }
        }
    }

    /// The flags but `myself`, comma separated.
    pub(super) fn flag_string(&self) -> String {
        self.flags_str
            .iter()
            .filter(|f| *f != "myself")
            .cloned()
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `[0-5460],[5462]`.
    pub(super) fn slots_string(&self) -> String {
        slot_ranges(&self.slots)
    }

    /// The node as `check` and `create` list it.
    pub(super) fn describe(&self, indent: usize) -> String {
        let spaces = " ".repeat(indent);
        let mut info = spaces.clone();
        if self.dirty && self.replicate.is_some() {
            info.push_str(&format!("S: {} {}:{}", self.name(), self.ip, self.port));
        } else {
            let role = if self.is_slave() { "S" } else { "M" };
            info.push_str(&format!(
                "{role}: {} {}:{}\n{spaces}   slots:{} ({} slots) {}",
                self.name(),
                self.ip,
                self.port,
                self.slots_string(),
                self.slots_count,
                self.flag_string()
            ));
        }
        if let Some(master) = &self.replicate {
            info.push_str(&format!("\n{spaces}   replicates {master}"));
        } else if self.replicas_count > 0 {
            info.push_str(&format!(
                "\n{spaces}   {} additional replica(s)",
                self.replicas_count
            ));
        }
        info
    }

    /// The sorted slot assignment this node sees, to compare nodes' views.
    pub(super) fn config_signature(&mut self) -> Option<String> {
        let reply = match self.cmd(&["CLUSTER", "NODES"]) {
            Some(Frame::Error(_)) | None => return None,
            Some(f) => text(&f),
        };
        let mut configs = Vec::new();
        for line in reply.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            let line = &line[..line.len() - 1];
            let fields: Vec<&str> = line.splitn(9, ' ').collect();
            if fields.len() < 9 || fields[8].is_empty() {
                continue;
            }
            let mut slots: Vec<&str> = fields[8]
                .split(' ')
                .filter(|s| !s.starts_with('['))
                .collect();
            if slots.is_empty() {
                continue;
            }
            slots.sort_unstable();
            configs.push(format!("{}:{}", fields[0], slots.join(",")));
        }
        if configs.is_empty() {
            return None;
        }
        configs.sort_unstable();
        Some(configs.join("|"))
    }

    /// Disconnected or handshaking links this node reports: their addresses.
    fn disconnected_links(&mut self) -> Vec<String> {
        let reply = self.cmd(&["CLUSTER", "NODES"]);
        if !self.check(reply.clone()) {
            return Vec::new();
        }
        let reply = reply.map(|f| text(&f)).unwrap_or_default();
        let mut links = Vec::new();
        for line in reply.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            let fields: Vec<&str> = line[..line.len() - 1].split(' ').collect();
            if fields.len() < 8 {
                continue;
            }
            let (addr, flags, link) = (fields[1], fields[2], fields[7]);
            if flags.contains("myself") {
                continue;
            }
            if flags.contains("disconnected")
                || link.contains("disconnected")
                || flags.contains("handshake")
            {
                links.push(addr.to_string());
            }
        }
        links
    }
}

/// A reply's text (CLUSTER NODES, INFO).
pub(super) fn text(frame: &Frame) -> String {
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) => String::from_utf8_lossy(b).into_owned(),
        Frame::Verbatim { text, .. } => String::from_utf8_lossy(text).into_owned(),
        _ => String::new(),
    }
}

/// An INFO field as `strtol` reads it (0 when missing).
pub(super) fn info_field(info: &str, field: &str) -> i64 {
    let key = format!("{field}:");
    match info.find(&key) {
        Some(at) => c_int(&info[at + key.len()..]),
        None => 0,
    }
}

/// Slot flags as redis-cli lists ranges: `[0-10],[12]`.
pub(super) fn slot_ranges(slots: &[bool]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < slots.len() {
        if !slots[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < slots.len() && slots[i + 1] {
            i += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == i {
            out.push_str(&format!("[{start}]"));
        } else {
            out.push_str(&format!("[{start}-{i}]"));
        }
        i += 1;
    }
    out
}

/// The nodes loaded from a starting node, and the errors `check` found.
#[derive(Debug, Default)]
pub(super) struct Cluster {
    pub(super) nodes: Vec<Node>,
    pub(super) errors: Vec<String>,
    pub(super) unreachable_masters: i64,
}

impl Cluster {
    pub(super) fn by_name(&self, name: &str) -> Option<usize> {
        let name = name.to_ascii_lowercase();
        self.nodes
            .iter()
            .position(|n| n.name.as_deref() == Some(name.as_str()))
    }

    pub(super) fn by_prefix(&self, prefix: &str) -> Option<usize> {
        let prefix = prefix.to_ascii_lowercase();
        self.nodes.iter().position(|n| {
            n.name
                .as_deref()
                .is_some_and(|name| name.starts_with(&prefix))
        })
    }

    /// Loads the whole cluster from `node`, printing why not.
    pub(super) fn load_from(&mut self, auth: &Auth, mut node: Node) -> bool {
        if node.conn.is_none() && !node.connect(auth) {
            return false;
        }
        match node.is_cluster() {
            Ok(true) => {}
            Ok(false) => return not_cluster(&node, None),
            Err(e) => return not_cluster(&node, e.as_deref()),
        }
        let friends = match node.load_info(true) {
            Ok(f) => f,
            Err(e) => {
                if let Some(e) = e {
                    node.print_error(&e);
                }
                return false;
            }
        };
        self.nodes.clear();
        self.nodes.push(node);
        for mut friend in friends {
            let mut valid = friend.port != 0 && !friend.ip.is_empty();
            if valid && friend.conn.is_none() {
                valid = friend.connect(auth);
            }
            if valid {
                if friend.load_info(false).is_ok() {
                    valid = friend.flags & (NOADDR | DISCONNECT | FAIL) == 0;
                } else {
                    log_err!(
                        "[ERR] Unable to load info for node {}:{}\n",
                        friend.ip,
                        friend.port
                    );
                    valid = false;
                }
            }
            if valid {
                self.nodes.push(friend);
            } else if !friend.is_slave() {
                self.unreachable_masters += 1;
            }
        }
        for i in 0..self.nodes.len() {
            let Some(master) = self.nodes[i].replicate.clone() else {
                continue;
            };
            match self.by_name(&master) {
                Some(m) => self.nodes[m].replicas_count += 1,
                None => {
                    let n = &self.nodes[i];
                    log_warn!(
                        "*** WARNING: {}:{} claims to be slave of unknown node ID {}.\n",
                        n.ip,
                        n.port,
                        master
                    );
                }
            }
        }
        true
    }

    pub(super) fn show_nodes(&self) {
        for node in &self.nodes {
            println!("{}", node.describe(0));
        }
    }

    /// Every node sees the same slot assignment.
    pub(super) fn is_consistent(&mut self) -> bool {
        if self.nodes.len() <= 1 {
            return true;
        }
        let mut first: Option<String> = None;
        for node in &mut self.nodes {
            let Some(cfg) = node.config_signature() else {
                return false;
            };
            match &first {
                None => first = Some(cfg),
                Some(f) if *f != cfg => return false,
                Some(_) => {}
            }
        }
        true
    }

    /// Unreachable addresses and who cannot reach them.
    fn link_status(&mut self) -> Vec<(String, Vec<String>)> {
        let mut status: Vec<(String, Vec<String>)> = Vec::new();
        for node in &mut self.nodes {
            let me = node.addr();
            for addr in node.disconnected_links() {
                match status.iter_mut().find(|(a, _)| *a == addr) {
                    Some((_, from)) => from.push(me.clone()),
                    None => status.push((addr, vec![me.clone()])),
                }
            }
        }
        status
    }

    /// Waits, a dot a second, until every node agrees on the configuration.
    pub(super) fn wait_for_join(&mut self) {
        println!("Waiting for the cluster to join");
        let mut counter = 0;
        let check_after = 20 + (self.nodes.len() as f32 * 0.15) as i64;
        while !self.is_consistent() {
            print!(".");
            super::flush();
            std::thread::sleep(std::time::Duration::from_secs(1));
            counter += 1;
            if counter > check_after {
                let status = self.link_status();
                if !status.is_empty() {
                    println!();
                    log_err!("Warning: {} node(s) may be unreachable\n", status.len());
                    for (addr, from) in status {
                        match super::parse_address(&addr) {
                            Some((ip, _, bus)) if bus != 0 => log_err!(
                                " - The port {bus} of node {ip} may be unreachable from:\n"
                            ),
                            _ => log_err!(" - Node {addr} may be unreachable from:\n"),
                        }
                        for f in from {
                            log_err!("   {f}\n");
                        }
                        log_err!(
                            "Cluster bus ports must be reachable by every node.\nRemember that cluster bus ports are different from standard instance ports.\n"
                        );
                    }
                }
                counter = 0;
            }
        }
        println!();
    }

    /// Records and prints an error found by `check`.
    pub(super) fn on_error(&mut self, err: String) {
        log_err!("{err}\n");
        self.errors.push(err);
    }

    /// The master with the fewest replicas (the first of equals).
    pub(super) fn least_replicas(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, n) in self.nodes.iter().enumerate() {
            if n.is_slave() {
                continue;
            }
            if best.is_none_or(|b| n.replicas_count < self.nodes[b].replicas_count) {
                best = Some(i);
            }
        }
        best
    }
}

pub(super) fn not_cluster(node: &Node, err: Option<&str>) -> bool {
    let msg = err.unwrap_or("is not configured as a cluster node.");
    log_err!("[ERR] Node {}:{} {}\n", node.ip, node.port, msg);
    false
}

pub(super) fn not_empty(node: &Node, err: Option<&str>) -> bool {
    let msg = err.unwrap_or(
        "is not empty. Either the node already knows other nodes (check with CLUSTER NODES) or contains some key in database 0.",
    );
    log_err!("[ERR] Node {}:{} {}\n", node.ip, node.port, msg);
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_ranges_are_bracketed() {
        let mut slots = vec![false; 20];
        for s in [0, 1, 2, 5, 7, 8] {
            slots[s] = true;
        }
        assert_eq!(slot_ranges(&slots), "[0-2],[5],[7-8]");
    }

    #[test]
    fn cluster_nodes_lines_fill_slots_and_open_slots() {
        let mut n = Node::new("127.0.0.1", 7000, 0);
        n.parse_slots("0-10 12 [13->-abc] [14-<-def]");
        assert_eq!(n.slots_count, 12);
        assert!(n.slots[12] && !n.slots[11]);
        assert_eq!(n.migrating, [("13".to_string(), "abc".to_string())]);
        assert_eq!(n.importing, [("14".to_string(), "def".to_string())]);
        assert_eq!(
            info_field("a:1\r\ncluster_enabled:1\r\n", "cluster_enabled"),
            1
        );
    }
}
