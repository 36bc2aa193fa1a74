//! Store-level rebuild and verification of the projections.

use std::path::PathBuf;

use shopsync_types::{Progress, VerifyReport};

use crate::error::Result;
use crate::projection::rebuild;
use crate::store::Store;

impl Store {
    /// Rebuilds every projection from the documents, in place.
    pub fn rebuild(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<()> {
        let tx = self.conn.transaction()?;
        rebuild::rebuild(&tx, &mut |done, total| {
            progress(Progress {
                stage: "rebuilding".into(),
                done,
                total,
            })
        })?;
        tx.commit()?;
        self.docs.retain(&[]);
        self.reload_info()
    }

    /// Rebuilds the projections in a scratch copy and compares them with
    /// the live ones. The store itself is not changed.
    pub fn verify(&self, progress: &mut dyn FnMut(Progress)) -> Result<VerifyReport> {
        let dir = self.path.parent().map(PathBuf::from).unwrap_or_default();
        let scratch = dir.join(format!(".shopsync-verify-{}.db", uuid::Uuid::new_v4()));
        let report = rebuild::verify(&self.conn, &scratch, &mut |done, total| {
            progress(Progress {
                stage: "rebuilding a scratch copy".into(),
                done,
                total,
            })
        });
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
        }
        report
    }
}
