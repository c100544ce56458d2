//! The spool: the inventory that has not been acknowledged yet, on disk, so a restart of
//! the agent or an unreachable server loses nothing.
//!
//! Invariants: an inventory is written to `spool/inventory.json` before it is sent, and
//! removed only when the server's `acknowledged_hash` equals its state hash. One slot is
//! enough: inventories are snapshots, so a newer unacknowledged one supersedes an older
//! one. A spooled inventory is sent first on the next check-in (after a restart too),
//! before a fresh collection. A spool file that cannot be parsed (a crash mid-write
//! cannot produce one thanks to atomic renames, but a full disk or an editor could) is
//! dropped: the next collection replaces it.

use std::fs;
use std::io;
use std::path::PathBuf;

use rampart_proto::Inventory;

use crate::state::{Error, StateDir, remove_if_present, write_atomic};

#[derive(Clone, Debug)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    pub fn new(state: &StateDir) -> Spool {
        Spool {
            dir: state.file("spool"),
        }
    }

    fn file(&self) -> PathBuf {
        self.dir.join("inventory.json")
    }

    /// The spooled inventory, if any.
    pub fn pending(&self) -> Result<Option<Inventory>, Error> {
        let path = self.file();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Io { path, source }),
        };
        match serde_json::from_slice(&bytes) {
            Ok(inv) => Ok(Some(inv)),
            Err(_) => {
                remove_if_present(&path)?;
                Ok(None)
            }
        }
    }

    /// Spools `inventory`, replacing any older one.
    pub fn put(&self, inventory: &Inventory) -> Result<(), Error> {
        fs::create_dir_all(&self.dir).map_err(|source| Error::Io {
            path: self.dir.clone(),
            source,
        })?;
        let bytes = serde_json::to_vec(inventory).expect("wire types encode");
        write_atomic(&self.file(), &bytes, 0o600)
    }

    /// Drops the spooled inventory if its state hash is `acknowledged_hash`; returns
    /// whether it did.
    pub fn acknowledge(&self, acknowledged_hash: &str) -> Result<bool, Error> {
        match self.pending()? {
            Some(inv) if inv.state.content_hash() == acknowledged_hash => {
                remove_if_present(&self.file())?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    pub fn clear(&self) -> Result<(), Error> {
        remove_if_present(&self.file())
    }
}

#[cfg(test)]
mod tests;
