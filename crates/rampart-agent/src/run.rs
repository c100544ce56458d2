//! `rampart-agent run`: the check-in loop.
//!
//! One check-in ([`Agent::check_in`]): send the spooled inventory if there is one; then
//! collect, hash the state, and send the inventory only when the hash differs from the
//! last acknowledged one (the server cleared that by answering `inventory_wanted`);
//! otherwise send just the hash. The inventory is spooled before it is sent (see
//! [`crate::spool`]).
//!
//! Timing: the next check-in follows the server's `next_checkin_secs` (default 60 s)
//! with ±10 % jitter so a fleet restarted together spreads out; while the server cannot
//! be reached, exponential backoff with full jitter from 5 s, capped at 5 minutes.
//! Sleeps are cut into short slices that check a stop flag, so SIGTERM ends the agent
//! within a quarter of a second.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rampart_proto::{CheckIn, CheckInResponse, Inventory, PROTOCOL_VERSION};

use crate::collect;
use crate::spool::Spool;
use crate::state::{self, AgentConfig, StateDir};
use crate::transport::{self, Client};

pub const BACKOFF_BASE: Duration = Duration::from_secs(5);
pub const BACKOFF_CAP: Duration = Duration::from_secs(300);
const MIN_INTERVAL: Duration = Duration::from_secs(5);
const SLEEP_SLICE: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    State(#[from] state::Error),
    #[error("the agent's credentials are unusable: {0}")]
    Credentials(#[source] rampart_pki::Error),
    #[error(transparent)]
    Transport(#[from] transport::Error),
    #[error(transparent)]
    Collect(#[from] collect::Error),
}

/// What one check-in did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Inventories sent (0, 1, or 2 when a spooled one went first).
    pub inventories_sent: usize,
    pub state_hash: String,
    /// When the server wants the next check-in.
    pub next: Duration,
}

pub struct Agent {
    state: StateDir,
    spool: Spool,
    client: Client,
    config: AgentConfig,
    root: PathBuf,
}

impl Agent {
    /// Loads the enrolment from `state_dir`; collects from `root`.
    pub fn open(state_dir: &Path, root: &Path) -> Result<Agent, Error> {
        let state = StateDir::new(state_dir);
        let config = state.load_config()?;
        let creds = state.load_credentials()?;
        let tls = rampart_pki::agent_client_config(&creds.ca_pem, &creds.cert_pem, &creds.key_pem)
            .map_err(Error::Credentials)?;
        let client = Client::new(&config.server_url, tls)?;
        Ok(Agent {
            spool: Spool::new(&state),
            state,
            client,
            config,
            root: root.to_owned(),
        })
    }

    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// One check-in, as described in the module documentation.
    pub fn check_in(&self) -> Result<Outcome, Error> {
        let mut sent = 0;
        let mut flushed = None;
        if let Some(spooled) = self.spool.pending()? {
            let hash = spooled.state.content_hash();
            flushed = Some(self.send(&hash, Some(spooled))?);
            sent += 1;
        }
        let inventory = collect::collect(&self.root, unix_now())?;
        let hash = inventory.state.content_hash();
        let attach = self.state.acknowledged()?.as_deref() != Some(hash.as_str());
        let response = match flushed {
            // The spooled inventory was this very state and the server has it: that
            // check-in was this cycle's.
            Some(response) if !attach => response,
            _ if attach => {
                self.spool.put(&inventory)?;
                sent += 1;
                self.send(&hash, Some(inventory))?
            }
            _ => self.send(&hash, None)?,
        };
        Ok(Outcome {
            inventories_sent: sent,
            state_hash: hash,
            next: interval(response.next_checkin_secs),
        })
    }

    fn send(&self, hash: &str, inventory: Option<Inventory>) -> Result<CheckInResponse, Error> {
        let request = CheckIn {
            protocol: PROTOCOL_VERSION,
            agent_version: env!("CARGO_PKG_VERSION").to_owned(),
            state_hash: hash.to_owned(),
            inventory,
        };
        let response: CheckInResponse = self.client.post_json("/agent/v1/checkin", &request)?;
        apply_response(&self.state, &self.spool, &response)?;
        Ok(response)
    }

    /// Checks in until `stop` is set, sleeping between check-ins as described in the
    /// module documentation. Failures are reported through `report` and retried.
    pub fn run(&self, stop: &AtomicBool, mut report: impl FnMut(Result<&Outcome, &Error>)) {
        let mut failures = 0u32;
        while !stop.load(Ordering::Relaxed) {
            let pause = match self.check_in() {
                Ok(outcome) => {
                    failures = 0;
                    report(Ok(&outcome));
                    jittered(outcome.next, random_unit())
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    report(Err(&e));
                    backoff(failures, random_unit())
                }
            };
            sleep_unless_stopped(pause, stop);
        }
    }
}

/// Records what the server said: an acknowledged hash empties the matching spool slot
/// and becomes the baseline; `inventory_wanted` forgets the baseline so the next
/// check-in attaches the inventory (and a restarted agent still knows to).
pub fn apply_response(
    state: &StateDir,
    spool: &Spool,
    response: &CheckInResponse,
) -> Result<(), state::Error> {
    if let Some(hash) = &response.acknowledged_hash {
        spool.acknowledge(hash)?;
        state.set_acknowledged(hash)?;
    }
    if response.inventory_wanted {
        state.clear_acknowledged()?;
    }
    Ok(())
}

/// The server's interval, or the default when it names none; never below 5 s so a
/// misconfigured server cannot make agents spin.
pub fn interval(next_checkin_secs: u64) -> Duration {
    if next_checkin_secs == 0 {
        Duration::from_secs(state::DEFAULT_INTERVAL_SECS)
    } else {
        Duration::from_secs(next_checkin_secs).max(MIN_INTERVAL)
    }
}

/// `interval` scaled by a factor in [0.9, 1.1], `unit` in [0, 1).
pub fn jittered(interval: Duration, unit: f64) -> Duration {
    interval.mul_f64(0.9 + 0.2 * unit.clamp(0.0, 1.0))
}

/// Full-jitter exponential backoff after `failures` consecutive failures (≥ 1): uniform
/// in [1 s, min(cap, base · 2^(failures-1))], `unit` in [0, 1).
pub fn backoff(failures: u32, unit: f64) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    let ceiling = BACKOFF_BASE.saturating_mul(1 << exp).min(BACKOFF_CAP);
    let floor = Duration::from_secs(1);
    floor + (ceiling - floor).mul_f64(unit.clamp(0.0, 1.0))
}

/// Sleeps `duration` in short slices; returns early (false) once `stop` is set.
pub fn sleep_unless_stopped(duration: Duration, stop: &AtomicBool) -> bool {
    let deadline = Instant::now() + duration;
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        std::thread::sleep((deadline - now).min(SLEEP_SLICE));
    }
}

/// A uniform number in [0, 1) from the system's random generator (ring, already linked
/// for TLS); jitter does not need more than that, and a failure only costs the jitter.
fn random_unit() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests;
