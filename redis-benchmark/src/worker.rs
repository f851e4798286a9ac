//! The load engine. Each worker thread runs one single-threaded tokio runtime that owns a
//! share of the connections (`--threads N` gives N of them, none given gives one, like
//! Redis's single event loop). A connection claims `-P` requests at a time from a shared
//! counter, sends its pre-encoded batch, and records one latency per reply: from the send
//! (or, with `--rps`, from when the batch was due) to the first byte of the answer.
//! Histograms are per thread and merged at the end, so the hot path shares only two
//! counters.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use tokio::task::{JoinSet, LocalSet};

use crate::cluster::{Cluster, Redirect, Topology, request_slot, slot_tag};
use crate::histogram::Histogram;
use crate::net::{BenchError, Inbox, Stream, error_text};
use crate::options::Target;
use crate::request::Batch;

/// Latencies are recorded in microseconds between these bounds, as Redis does.
const LOWEST_LATENCY_US: u64 = 10;
const HIGHEST_LATENCY_US: u64 = 3_000_000;
/// How often the caller's progress callback runs.
pub(crate) const TICK: Duration = Duration::from_millis(250);

/// One test run.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) target: Target,
    /// AUTH / CLIENT TRACKING / SELECT / HELLO sent once per connection, before measuring.
    pub(crate) handshake: Vec<u8>,
    pub(crate) handshake_replies: usize,
    pub(crate) batch: Batch,
    pub(crate) pipeline: usize,
    pub(crate) clients: usize,
    pub(crate) threads: usize,
    /// Stop after this many requests (`-n`), unless `duration` is set.
    pub(crate) requests: u64,
    pub(crate) duration: Option<Duration>,
    pub(crate) warmup: Duration,
    pub(crate) rps: Option<f64>,
    pub(crate) keepalive: bool,
    pub(crate) seed: Option<u64>,
    pub(crate) precision: u32,
    /// Keep running latency sums for the progress line.
    pub(crate) track_latency: bool,
    /// `--cluster`: the masters; connection `i` lives on master `i % masters`.
    pub(crate) cluster: Option<Arc<Cluster>>,
    /// `-r` was given.
    pub(crate) keyspace_random: bool,
}

impl Plan {
    /// Whether `{tag}` takes a random slot of the client's master each time (with `-r`)
    /// rather than always its first, so that without `-r` every request hits one key.
    fn batch_random_slots(&self) -> bool {
        self.keyspace_random
    }

    pub(crate) fn new_histogram(&self) -> Histogram {
        Histogram::new(LOWEST_LATENCY_US, HIGHEST_LATENCY_US, self.precision)
    }
}

/// Counters shared by every connection of a run.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    issued: AtomicU64,
    finished: AtomicU64,
    latency_sum_us: AtomicU64,
    latency_count: AtomicU64,
    stop: AtomicBool,
}

/// What the progress callback sees.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) finished: u64,
    pub(crate) latency_sum_us: u64,
    pub(crate) latency_count: u64,
    /// Time since measuring began (zero during warmup).
    pub(crate) elapsed: Duration,
}

/// The result of a run.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) histogram: Histogram,
    pub(crate) finished: u64,
    pub(crate) elapsed: Duration,
}

/// Runs `plan`, calling `tick` every [`TICK`] from this thread while the workers run.
pub(crate) fn run(plan: Arc<Plan>, mut tick: impl FnMut(Snapshot)) -> Result<Outcome, BenchError> {
    let shared = Arc::new(Shared::default());
    let start = Instant::now();
    let measure_start = start + plan.warmup;
    let workers = plan.threads.max(1);
    let (tx, rx) = mpsc::channel();
    for worker in 0..workers {
        let (plan, shared, tx) = (Arc::clone(&plan), Arc::clone(&shared), tx.clone());
        std::thread::Builder::new()
            .name(format!("bench-{worker}"))
            .spawn(move || {
                let result = run_worker(plan, Arc::clone(&shared), worker, workers, start);
                if result.is_err() {
                    shared.stop.store(true, Ordering::Relaxed);
                }
                // The receiver only goes away once the run is over.
                let _ = tx.send(result);
            })
            .map_err(BenchError::Io)?;
    }
    drop(tx);
    let mut histogram = plan.new_histogram();
    let mut done = 0;
    while done < workers {
        match rx.recv_timeout(TICK) {
            Ok(result) => {
                histogram.add(&result?);
                done += 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => tick(Snapshot {
                finished: shared.finished.load(Ordering::Relaxed),
                latency_sum_us: shared.latency_sum_us.load(Ordering::Relaxed),
                latency_count: shared.latency_count.load(Ordering::Relaxed),
                elapsed: Instant::now().saturating_duration_since(measure_start),
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(Outcome {
        histogram,
        finished: shared.finished.load(Ordering::Relaxed),
        elapsed: Instant::now().saturating_duration_since(measure_start),
    })
}

/// What the connection tasks of one thread share.
struct Worker {
    plan: Arc<Plan>,
    shared: Arc<Shared>,
    histogram: RefCell<Histogram>,
    start: Instant,
    measure_start: Instant,
    deadline: Option<Instant>,
}

fn run_worker(
    plan: Arc<Plan>,
    shared: Arc<Shared>,
    worker: usize,
    workers: usize,
    start: Instant,
) -> Result<Histogram, BenchError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Io)?;
    let measure_start = start + plan.warmup;
    let clients = plan.clients;
    let ctx = Rc::new(Worker {
        histogram: RefCell::new(plan.new_histogram()),
        deadline: plan.duration.map(|d| measure_start + d),
        plan,
        shared,
        start,
        measure_start,
    });
    let local = LocalSet::new();
    local.block_on(&runtime, async {
        let mut tasks = JoinSet::new();
        for index in (worker..clients).step_by(workers) {
            match &ctx.plan.cluster {
                Some(cluster) => tasks.spawn_local(cluster_connection(
                    Rc::clone(&ctx),
                    index,
                    Arc::clone(cluster),
                )),
                None => tasks.spawn_local(connection(Rc::clone(&ctx), index)),
            };
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(e) => return Err(BenchError::Io(std::io::Error::other(e))),
            }
        }
        Ok(())
    })?;
    Ok(ctx.histogram.borrow().clone())
}

/// Whether a connection goes on with a new one (`-k 0`) or is done.
enum Next {
    Reconnect,
    Done,
}

/// One client: connects (again after every batch with `-k 0`) and sends batches until the
/// run's requests, duration or an error end it.
async fn connection(ctx: Rc<Worker>, index: usize) -> Result<(), BenchError> {
    let plan = &*ctx.plan;
    let mut batch = plan.batch.clone();
    let mut rng = match plan.seed {
        // Distinct, repeatable streams per connection.
        Some(seed) => {
            SmallRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        }
        None => SmallRng::from_os_rng(),
    };
    let mut pacer = plan.rps.map(|rps| Pacer::new(ctx.start, rps, plan, index));
    let mut inbox = Inbox::new();
    loop {
        let mut stream = Stream::connect(&plan.target).await?;
        if !plan.handshake.is_empty() {
            stream.send(&plan.handshake).await?;
            inbox.replies(&mut stream, plan.handshake_replies).await?;
        }
        let next = session(
            &ctx,
            &mut stream,
            &mut inbox,
            &mut batch,
            &mut rng,
            pacer.as_mut(),
        )
        .await?;
        match next {
            Next::Done => return Ok(()),
            Next::Reconnect => continue,
        }
    }
}

async fn session(
    ctx: &Worker,
    stream: &mut Stream,
    inbox: &mut Inbox,
    batch: &mut Batch,
    rng: &mut SmallRng,
    mut pacer: Option<&mut Pacer>,
) -> Result<Next, BenchError> {
    let plan = &*ctx.plan;
    loop {
        let Some(turn) = ctx.claim(pacer.as_deref_mut()).await else {
            return Ok(Next::Done);
        };
        batch.randomize(rng);
        let sent = turn.sent_at(pacer.is_some());
        stream.send(batch.bytes()).await?;
        let answered = inbox.replies(stream, plan.pipeline).await?;
        ctx.record(&turn, sent, answered);
        if !plan.keepalive {
            return Ok(Next::Reconnect);
        }
    }
}

/// A batch the run still wants: when it was due and whether it counts.
struct Turn {
    due: Instant,
    measured: bool,
}

impl Turn {
    /// Where the latency starts: when due (open loop, so a stall is not hidden) or now.
    fn sent_at(&self, paced: bool) -> Instant {
        if paced { self.due } else { Instant::now() }
    }
}

impl Worker {
    /// Claims the next batch (`-P` requests), waiting for its time under `--rps`; `None`
    /// once the requests are all issued, the duration is over, or the run is stopping.
    async fn claim(&self, pacer: Option<&mut Pacer>) -> Option<Turn> {
        let plan = &*self.plan;
        let shared = &*self.shared;
        if shared.stop.load(Ordering::Relaxed) {
            return None;
        }
        let paced = pacer.is_some();
        let due = match pacer {
            Some(p) => p.next_due(),
            None => Instant::now(),
        };
        let measured = due >= self.measure_start;
        if measured {
            match self.deadline {
                Some(deadline) if due >= deadline => return None,
                Some(_) => {}
                None => {
                    if shared
                        .issued
                        .fetch_add(plan.pipeline as u64, Ordering::Relaxed)
                        >= plan.requests
                    {
                        return None;
                    }
                }
            }
        }
        if paced && due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        Some(Turn { due, measured })
    }

    /// Records a batch answered at `answered`, sent at `sent`.
    fn record(&self, turn: &Turn, sent: Instant, answered: Instant) {
        if !turn.measured {
            return;
        }
        let plan = &*self.plan;
        let shared = &*self.shared;
        let pipeline = plan.pipeline as u64;
        let latency = answered.saturating_duration_since(sent).as_micros() as u64;
        let latency = latency.min(HIGHEST_LATENCY_US);
        self.histogram.borrow_mut().record_n(latency, pipeline);
        shared.finished.fetch_add(pipeline, Ordering::Relaxed);
        if plan.track_latency {
            shared
                .latency_sum_us
                .fetch_add(latency * pipeline, Ordering::Relaxed);
            shared.latency_count.fetch_add(pipeline, Ordering::Relaxed);
        }
    }
}

/// How many redirects one request may follow before the run gives up.
const MAX_REDIRECTS: usize = 5;

/// A connection of a cluster client to one master.
struct Link {
    stream: Stream,
    inbox: Inbox,
}

/// The connections of one cluster client, by master address.
struct Links<'a> {
    plan: &'a Plan,
    open: HashMap<(String, u16), Link>,
}

impl Links<'_> {
    async fn get(&mut self, host: &str, port: u16) -> Result<&mut Link, BenchError> {
        let key = (host.to_string(), port);
        if !self.open.contains_key(&key) {
            let target = Target::Tcp {
                host: host.to_string(),
                port,
            };
            let mut stream = Stream::connect(&target).await?;
            let mut inbox = Inbox::new();
            if !self.plan.handshake.is_empty() {
                stream.send(&self.plan.handshake).await?;
                inbox
                    .replies(&mut stream, self.plan.handshake_replies)
                    .await?;
            }
            self.open.insert(key.clone(), Link { stream, inbox });
        }
        self.open.get_mut(&key).ok_or(BenchError::Closed)
    }
}

/// One cluster client: like [`connection`], but every request goes to the master serving
/// its key's slot (keys with `{tag}` get a slot of the client's own master, as in Redis's
/// tool), and MOVED/ASK replies are followed, a MOVED also fetching the map again.
async fn cluster_connection(
    ctx: Rc<Worker>,
    index: usize,
    cluster: Arc<Cluster>,
) -> Result<(), BenchError> {
    let plan = &*ctx.plan;
    let mut batch = plan.batch.clone();
    let mut rng = match plan.seed {
        Some(seed) => {
            SmallRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        }
        None => SmallRng::from_os_rng(),
    };
    let mut pacer = plan.rps.map(|rps| Pacer::new(ctx.start, rps, plan, index));
    let mut links = Links {
        plan,
        open: HashMap::new(),
    };
    let mut topology = cluster.current();
    let mut home = Home::new(&topology, index, None);
    // Requests of the batch grouped by master: (master, request indices).
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut out = Vec::new();
    loop {
        let Some(turn) = ctx.claim(pacer.as_mut()).await else {
            return Ok(());
        };
        if cluster.version() != topology.version {
            topology = cluster.current();
            home = Home::new(&topology, index, Some(&home));
        }
        batch.randomize(&mut rng);
        if batch.has_tags() {
            let slot = match (plan.batch_random_slots(), home.slots.len()) {
                (_, 0) => 0,
                (true, n) => home.slots[(rng.next_u64() % n as u64) as usize],
                (false, _) => home.slots[0],
            };
            batch.set_tag(slot_tag(slot));
        }
        groups.iter_mut().for_each(|(_, g)| g.clear());
        for i in 0..batch.len() {
            let master = request_slot(batch.request(i))
                .and_then(|slot| topology.owner(slot))
                .unwrap_or(home.master);
            match groups.iter_mut().find(|(m, _)| *m == master) {
                Some((_, g)) => g.push(i),
                None => groups.push((master, vec![i])),
            }
        }
        let sent = turn.sent_at(pacer.is_some());
        let mut answered = sent;
        for (master, requests) in groups.iter().filter(|(_, g)| !g.is_empty()) {
            let Some(m) = topology.masters.get(*master) else {
                continue;
            };
            out.clear();
            for &i in requests {
                out.extend_from_slice(batch.request(i));
            }
            links.get(&m.host, m.port).await?.stream.send(&out).await?;
        }
        let mut redirects: Vec<(usize, Redirect)> = Vec::new();
        for (master, requests) in groups.iter().filter(|(_, g)| !g.is_empty()) {
            let Some(m) = topology.masters.get(*master) else {
                continue;
            };
            let link = links.get(&m.host, m.port).await?;
            let at = link
                .inbox
                .replies_with(
                    &mut link.stream,
                    requests.len(),
                    |k, error| match Redirect::parse(error) {
                        Some(r) => {
                            redirects.push((requests[k], r));
                            Ok(())
                        }
                        None => Err(cluster_error(m, error)),
                    },
                )
                .await?;
            answered = answered.max(at);
        }
        for (request, redirect) in redirects {
            if !redirect.ask {
                let target = Target::Tcp {
                    host: redirect.host.clone(),
                    port: redirect.port,
                };
                let cluster = Arc::clone(&cluster);
                tokio::task::spawn_local(async move { cluster.refresh(target).await });
            }
            let at = follow(&mut links, batch.request(request), redirect).await?;
            answered = answered.max(at);
        }
        ctx.record(&turn, sent, answered);
        if !plan.keepalive {
            links.open.clear();
        }
    }
}

/// A cluster client's own master and its slots.
struct Home {
    master: usize,
    host: String,
    port: u16,
    slots: Vec<u16>,
}

impl Home {
    /// Master `index % masters`, or the same master as `previous` while it still serves slots.
    fn new(topology: &Topology, index: usize, previous: Option<&Home>) -> Home {
        let kept = previous
            .and_then(|p| topology.find(&p.host, p.port))
            .filter(|&m| !topology.slots_of(m).is_empty());
        let master = kept.unwrap_or(index % topology.masters.len().max(1));
        let (host, port) = topology
            .masters
            .get(master)
            .map_or((String::new(), 0), |m| (m.host.clone(), m.port));
        Home {
            master,
            host,
            port,
            slots: topology.slots_of(master),
        }
    }
}

/// Sends `request` where `redirect` points (after ASKING for an ASK), following further
/// redirects, and returns when the answer came.
async fn follow(
    links: &mut Links<'_>,
    request: &[u8],
    mut redirect: Redirect,
) -> Result<Instant, BenchError> {
    const ASKING: &[u8] = b"*1\r\n$6\r\nASKING\r\n";
    for _ in 0..MAX_REDIRECTS {
        let link = links.get(&redirect.host, redirect.port).await?;
        let mut out = Vec::with_capacity(request.len() + ASKING.len());
        if redirect.ask {
            out.extend_from_slice(ASKING);
        }
        out.extend_from_slice(request);
        link.stream.send(&out).await?;
        let mut next = None;
        let node = crate::cluster::Master {
            id: String::new(),
            host: redirect.host.clone(),
            port: redirect.port,
        };
        let answered = link
            .inbox
            .replies_with(
                &mut link.stream,
                1 + usize::from(redirect.ask),
                |_, error| match Redirect::parse(error) {
                    Some(r) => {
                        next = Some(r);
                        Ok(())
                    }
                    None => Err(cluster_error(&node, error)),
                },
            )
            .await?;
        match next {
            None => return Ok(answered),
            Some(r) => redirect = r,
        }
    }
    Err(BenchError::Server(
        b"too many cluster redirections".to_vec(),
    ))
}

/// An error reply from a master, named as Redis's tool names it.
fn cluster_error(master: &crate::cluster::Master, error: &[u8]) -> BenchError {
    let mut text = format!("{}:{}: ", master.host, master.port).into_bytes();
    text.extend_from_slice(&error_text(error));
    BenchError::Server(text)
}

/// The open-loop schedule of one connection: its share of `--rps`, staggered so the
/// connections do not all send at once.
struct Pacer {
    next: Instant,
    interval: Duration,
}

impl Pacer {
    fn new(start: Instant, rps: f64, plan: &Plan, index: usize) -> Pacer {
        let clients = plan.clients.max(1) as f64;
        let interval = Duration::from_secs_f64(plan.pipeline as f64 * clients / rps);
        Pacer {
            next: start + interval.mul_f64(index as f64 / clients),
            interval,
        }
    }

    /// When the next batch is due; a late connection sends at once, and its lateness counts
    /// in the latency (coordinated omission correction).
    fn next_due(&mut self) -> Instant {
        let due = self.next;
        self.next += self.interval;
        due
    }
}

/// `-I`: opens `clients` connections that send nothing and waits forever, reporting the
/// first error reply or closed connection.
pub(crate) fn idle(target: &Target, clients: usize, mut tick: impl FnMut(usize)) -> BenchError {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return BenchError::Io(e),
    };
    runtime.block_on(async {
        let mut tasks = JoinSet::new();
        for _ in 0..clients {
            let mut stream = match Stream::connect(target).await {
                Ok(s) => s,
                Err(e) => return e,
            };
            tasks.spawn(async move {
                let mut inbox = Inbox::new();
                loop {
                    if let Err(e) = inbox.replies(&mut stream, 1).await {
                        return e;
                    }
                }
            });
        }
        let mut ticker = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                joined = tasks.join_next() => match joined {
                    Some(Ok(e)) => return e,
                    Some(Err(e)) => return BenchError::Io(std::io::Error::other(e)),
                    None => return BenchError::Closed,
                },
                _ = ticker.tick() => tick(tasks.len()),
            }
        }
    })
}
