//! `rampart-loadgen`: simulates an estate of enrolled agents against a real server.
//!
//! Each simulated agent is what `rampart-agent` is on the wire: it enrols with a real
//! CSR through the pinned-CA bootstrap, then checks in over mTLS with a fresh TLS
//! connection per check-in (the agent's own transport code), sending its inventory the
//! first time and only the state hash afterwards, unless the server asks for it.
//! Inventories come from about 20 images built from this machine's real package list,
//! with a few packages of drift per host, so the server sees realistic package-set
//! sharing.
//!
//! Output: a progress line every `--report` interval on stderr and, at the end, one
//! JSON summary on stdout (check-ins per second, latency percentiles, errors, server
//! RSS when `--server-pid` is given).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Parser;
use rampart_agent::transport::Client;
use rampart_core::package::Package;
use rampart_pki::{AgentKey, EnrollmentToken, agent_client_config, pinned_bootstrap_config};
use rampart_proto::{
    CheckIn, CheckInResponse, EnrollRequest, EnrollResponse, HostFacts, HostState, Inventory,
    OsFacts, PROTOCOL_VERSION,
};

/// Simulate enrolled agents checking in against a Rampart server.
#[derive(Parser)]
#[command(
    version,
    after_help = "Example:\n  rampart-loadgen --server https://127.0.0.1:8443 --enroll-token \"$(rampart enroll-token create --max-uses 10000)\" --agents 10000 --duration 300s --server-pid $PID"
)]
struct Args {
    /// Server URL.
    #[arg(long)]
    server: String,
    /// Enrolment token with at least --agents uses left.
    #[arg(long, env = "RAMPART_ENROLL_TOKEN", hide_env_values = true)]
    enroll_token: String,
    /// Number of simulated agents.
    #[arg(long, default_value_t = 10_000)]
    agents: usize,
    /// Check-in interval of each agent, in seconds.
    #[arg(long, default_value_t = 60)]
    interval: u64,
    /// How long to run the check-in phase after enrolment, in seconds.
    #[arg(long, default_value_t = 300)]
    duration: u64,
    /// Distinct images the inventories are drawn from.
    #[arg(long, default_value_t = 20)]
    images: usize,
    /// Client threads (each runs one request at a time, like one agent).
    #[arg(long, default_value_t = 64)]
    threads: usize,
    /// PID of the server, to sample its resident memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Percentage of hosts that drift from their image by a few package versions (each
    /// drifting host then has a package set of its own).
    #[arg(long, default_value_t = 0)]
    drift_percent: u8,
    /// Seconds between progress lines.
    #[arg(long, default_value_t = 10)]
    report: u64,
}

/// One simulated agent after enrolment.
struct SimAgent {
    client: Client,
    state: HostState,
    hash: String,
    acknowledged: Mutex<Option<String>>,
}

#[derive(Default)]
struct Stats {
    /// Check-ins of the first interval: every agent's first, carrying its full inventory.
    first_cycle_us: Mutex<Vec<u64>>,
    /// Every later check-in: the steady state the server lives in.
    latencies_us: Mutex<Vec<u64>>,
    ok: AtomicU64,
    errors: AtomicU64,
    inventories_sent: AtomicU64,
    last_error: Mutex<Option<String>>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.agents == 0 || args.threads == 0 || args.interval == 0 {
        bail!("--agents, --threads and --interval must be positive");
    }
    let token = EnrollmentToken::parse(&args.enroll_token).context("--enroll-token")?;
    let bootstrap = pinned_bootstrap_config(&token.ca_fingerprint)?;
    let images = images(args.images)?;

    eprintln!(
        "enrolling {} agents with {} threads …",
        args.agents, args.threads
    );
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let agents: Mutex<Vec<Option<SimAgent>>> = Mutex::new((0..args.agents).map(|_| None).collect());
    let failures = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..args.threads.min(args.agents) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= args.agents {
                        break;
                    }
                    match enroll(&args, &bootstrap, i, &images) {
                        Ok(agent) => agents.lock().expect("not poisoned")[i] = Some(agent),
                        Err(e) => {
                            if failures.fetch_add(1, Ordering::Relaxed) < 5 {
                                eprintln!("enrolling agent {i}: {e:#}");
                            }
                        }
                    }
                    if (i + 1).is_multiple_of(1000) {
                        eprintln!("  {} enrolled ({:.0?})", i + 1, started.elapsed());
                    }
                }
            });
        }
    });
    let agents: Vec<SimAgent> = agents
        .into_inner()
        .expect("not poisoned")
        .into_iter()
        .flatten()
        .collect();
    let enrol_secs = started.elapsed().as_secs_f64();
    if agents.is_empty() {
        bail!("no agent could enrol");
    }
    eprintln!(
        "{} agents enrolled in {enrol_secs:.1} s ({} failed); checking in every {} s for {} s",
        agents.len(),
        failures.load(Ordering::Relaxed),
        args.interval,
        args.duration
    );

    // Each agent's first check-in is spread uniformly over one interval, as agents
    // started at different times would be.
    let interval = Duration::from_secs(args.interval);
    let phase_start = Instant::now();
    let queue: Mutex<BinaryHeap<Reverse<(Instant, usize)>>> = Mutex::new(
        (0..agents.len())
            .map(|i| {
                let offset = interval.mul_f64((i as f64 + 0.5) / agents.len() as f64);
                Reverse((phase_start + offset, i))
            })
            .collect(),
    );
    let end = phase_start + Duration::from_secs(args.duration);
    let stats = Stats::default();
    let agents = Arc::new(agents);
    std::thread::scope(|s| {
        for _ in 0..args.threads {
            s.spawn(|| {
                worker(
                    &agents,
                    &queue,
                    &stats,
                    phase_start + interval,
                    interval,
                    end,
                )
            });
        }
        s.spawn(|| reporter(&stats, &args, phase_start, end));
    });

    let elapsed = phase_start.elapsed().as_secs_f64();
    let steady = percentiles(stats.latencies_us.into_inner().expect("not poisoned"));
    let first = percentiles(stats.first_cycle_us.into_inner().expect("not poisoned"));
    let steady_count = steady["count"].as_u64().unwrap_or(0);
    let steady_secs = (elapsed - args.interval as f64).max(f64::EPSILON);
    let summary = serde_json::json!({
        "agents": agents.len(),
        "interval_secs": args.interval,
        "duration_secs": elapsed,
        "enrolment_secs": enrol_secs,
        "checkins_ok": stats.ok.load(Ordering::Relaxed),
        "checkins_failed": stats.errors.load(Ordering::Relaxed),
        "inventories_sent": stats.inventories_sent.load(Ordering::Relaxed),
        "checkins_per_sec": stats.ok.load(Ordering::Relaxed) as f64 / elapsed,
        "steady_checkins_per_sec": steady_count as f64 / steady_secs,
        "target_checkins_per_sec": agents.len() as f64 / args.interval as f64,
        "first_cycle_latency_ms": first,
        "steady_latency_ms": steady,
        "server_rss_mib": args.server_pid.and_then(rss_mib),
        "last_error": stats.last_error.into_inner().expect("not poisoned"),
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// Count and p50/p90/p99/max in milliseconds of a set of latencies in microseconds.
fn percentiles(mut lat: Vec<u64>) -> serde_json::Value {
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat[i] as f64 / 1000.0
    };
    serde_json::json!({
        "count": lat.len(),
        "p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0),
    })
}

fn enroll(
    args: &Args,
    bootstrap: &Arc<rustls::ClientConfig>,
    i: usize,
    images: &[Vec<Package>],
) -> anyhow::Result<SimAgent> {
    let hostname = format!("loadgen-{i:05}");
    let key = AgentKey::generate()?;
    let request = EnrollRequest {
        protocol: PROTOCOL_VERSION,
        token: args.enroll_token.clone(),
        csr_pem: key.csr_pem(&hostname)?,
        hostname: hostname.clone(),
        machine_id: Some(format!("{i:032x}")),
    };
    let answer: EnrollResponse =
        Client::new(&args.server, bootstrap.clone())?.post_json("/agent/v1/enroll", &request)?;
    let tls = agent_client_config(&answer.ca_pem, &answer.certificate_pem, &key.key_pem())?;
    let state = host_state(&hostname, i, images, args.drift_percent);
    let hash = state.content_hash();
    Ok(SimAgent {
        client: Client::new(&args.server, tls)?,
        state,
        hash,
        acknowledged: Mutex::new(None),
    })
}

fn worker(
    agents: &[SimAgent],
    queue: &Mutex<BinaryHeap<Reverse<(Instant, usize)>>>,
    stats: &Stats,
    first_cycle_end: Instant,
    interval: Duration,
    end: Instant,
) {
    loop {
        let (due, i) = {
            let mut q = queue.lock().expect("not poisoned");
            match q.pop() {
                Some(Reverse(item)) => item,
                None => return,
            }
        };
        if due >= end {
            return;
        }
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let agent = &agents[i];
        let send_inventory = agent.acknowledged.lock().expect("not poisoned").as_deref()
            != Some(agent.hash.as_str());
        let request = CheckIn {
            protocol: PROTOCOL_VERSION,
            agent_version: "loadgen".into(),
            state_hash: agent.hash.clone(),
            inventory: send_inventory.then(|| Inventory {
                protocol: PROTOCOL_VERSION,
                observed_at: unix_now(),
                uptime_secs: None,
                state: agent.state.clone(),
            }),
        };
        let t = Instant::now();
        let result: Result<CheckInResponse, _> =
            agent.client.post_json("/agent/v1/checkin", &request);
        let took = t.elapsed();
        match result {
            Ok(answer) => {
                stats.ok.fetch_add(1, Ordering::Relaxed);
                if send_inventory {
                    stats.inventories_sent.fetch_add(1, Ordering::Relaxed);
                }
                let bucket = if due < first_cycle_end {
                    &stats.first_cycle_us
                } else {
                    &stats.latencies_us
                };
                bucket
                    .lock()
                    .expect("not poisoned")
                    .push(took.as_micros() as u64);
                let mut ack = agent.acknowledged.lock().expect("not poisoned");
                *ack = if answer.inventory_wanted {
                    None
                } else {
                    answer.acknowledged_hash
                };
            }
            Err(e) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                *stats.last_error.lock().expect("not poisoned") = Some(e.to_string());
            }
        }
        // Like the agent: the next check-in is one interval after this one finished, so
        // a slow server spreads its backlog instead of being hit by a burst of overdue
        // check-ins.
        queue
            .lock()
            .expect("not poisoned")
            .push(Reverse((Instant::now() + interval, i)));
    }
}

fn reporter(stats: &Stats, args: &Args, start: Instant, end: Instant) {
    let every = Duration::from_secs(args.report.max(1));
    let mut last_ok = 0;
    let mut last = start;
    while Instant::now() + every <= end {
        std::thread::sleep(every);
        let ok = stats.ok.load(Ordering::Relaxed);
        let now = Instant::now();
        let rate = (ok - last_ok) as f64 / (now - last).as_secs_f64();
        let p99 = {
            let lat = if now < start + Duration::from_secs(args.interval) {
                stats.first_cycle_us.lock().expect("not poisoned")
            } else {
                stats.latencies_us.lock().expect("not poisoned")
            };
            let mut recent: Vec<u64> = lat[lat.len().saturating_sub(5000)..].to_vec();
            recent.sort_unstable();
            recent.get((recent.len() * 99) / 100).copied().unwrap_or(0) as f64 / 1000.0
        };
        eprintln!(
            "  {:>5.0} s: {rate:.1} check-ins/s, p99 {p99:.1} ms (recent), {} errors, server RSS {}",
            (now - start).as_secs_f64(),
            stats.errors.load(Ordering::Relaxed),
            args.server_pid
                .and_then(rss_mib)
                .map_or("?".to_owned(), |m| format!("{m} MiB"))
        );
        last_ok = ok;
        last = now;
    }
}

/// The base image (this machine's packages) and `count` variants of it.
fn images(count: usize) -> anyhow::Result<Vec<Vec<Package>>> {
    let base = rampart_inventory::read_root(Path::new("/"))
        .context("reading this machine's packages for the simulated images")?
        .packages;
    Ok((0..count.max(1))
        .map(|img| {
            base.iter()
                .enumerate()
                // ~2% of packages missing and ~4% at another build, per image.
                .filter(|(k, _)| (k * 7 + img * 13) % 50 != 0)
                .map(|(k, p)| {
                    let mut p = p.clone();
                    if (k * 11 + img * 17) % 25 == 0 {
                        p.version = format!("{}~img{img}", p.version);
                    }
                    p
                })
                .collect()
        })
        .collect())
}

fn host_state(hostname: &str, i: usize, images: &[Vec<Package>], drift_percent: u8) -> HostState {
    let mut packages = images[i % images.len()].clone();
    // Drifting hosts are spread evenly: host i drifts when its slot in 0..100 is below
    // the percentage.
    if (i * 37) % 100 < usize::from(drift_percent) && !packages.is_empty() {
        for d in 0..3 {
            let k = (i * 31 + d * 97) % packages.len();
            packages[k].version = format!("{}+drift{}", packages[k].version, i % 7);
        }
    }
    HostState {
        host: HostFacts {
            hostname: hostname.to_owned(),
            machine_id: Some(format!("{i:032x}")),
            os: OsFacts {
                id: "debian".into(),
                version_id: "12".into(),
                pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
                ecosystem: Some("Debian:12".into()),
            },
            kernel: Some("6.1.0-loadgen".into()),
            arch: Some("amd64".into()),
            ..HostFacts::default()
        },
        packages,
        ..HostState::default()
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn rss_mib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024)
}
