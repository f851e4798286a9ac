//! The load engine. Each worker thread runs one single-threaded tokio runtime that owns a
//! share of the connections (`--threads N` gives N of them, none given gives one, like
//! Redis's single event loop). A connection claims `-P` requests at a time from a shared
//! counter, sends its pre-encoded batch, and records one latency per reply: from the send
//! (or, with `--rps`, from when the batch was due) to the first byte of the answer.
//! Histograms are per thread and merged at the end, so the hot path shares only two
//! counters.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::task::{JoinSet, LocalSet};

use crate::histogram::Histogram;
use crate::net::{BenchError, Inbox, Stream};
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
}

impl Plan {
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
            tasks.spawn_local(connection(Rc::clone(&ctx), index));
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
    let shared = &*ctx.shared;
    let pipeline = plan.pipeline as u64;
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(Next::Done);
        }
        let due = match pacer.as_deref_mut() {
            Some(p) => p.next_due(),
            None => Instant::now(),
        };
        let measured = due >= ctx.measure_start;
        if measured {
            match ctx.deadline {
                Some(deadline) if due >= deadline => return Ok(Next::Done),
                Some(_) => {}
                None => {
                    if shared.issued.fetch_add(pipeline, Ordering::Relaxed) >= plan.requests {
                        return Ok(Next::Done);
                    }
                }
            }
        }
        if pacer.is_some() && due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        batch.randomize(rng);
        let sent = if pacer.is_some() { due } else { Instant::now() };
        stream.send(batch.bytes()).await?;
        let answered = inbox.replies(stream, plan.pipeline).await?;
        if measured {
            let latency = answered.saturating_duration_since(sent).as_micros() as u64;
            let latency = latency.min(HIGHEST_LATENCY_US);
            ctx.histogram.borrow_mut().record_n(latency, pipeline);
            shared.finished.fetch_add(pipeline, Ordering::Relaxed);
            if plan.track_latency {
                shared
                    .latency_sum_us
                    .fetch_add(latency * pipeline, Ordering::Relaxed);
                shared.latency_count.fetch_add(pipeline, Ordering::Relaxed);
            }
        }
        if !plan.keepalive {
            return Ok(Next::Reconnect);
        }
    }
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
