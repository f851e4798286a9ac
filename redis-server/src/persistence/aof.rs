//! The append-only file: what the feed hands it, buffered until written.

/// Bytes for the AOF not yet written, with the AOF's own database selection (it differs from
/// the replication stream's: each starts from its own snapshot).
#[derive(Debug, Default)]
pub(crate) struct AofBuffer {
    pending: Vec<u8>,
    /// The database the file last selected; `None` forces a SELECT.
    db: Option<usize>,
    /// `aof-timestamp-enabled`: a `#TS:<unix>` line whenever the second changes.
    pub timestamps: bool,
    last_timestamp: i64,
    /// Bytes ever fed (the offset a client waits for under `appendfsync always`).
    pub fed: u64,
}

impl AofBuffer {
    pub(crate) fn feed(&mut self, db: usize, command: &[u8]) {
        let before = self.pending.len();
        if self.timestamps {
            let now = crate::server::unix_ms() / 1000;
            if now != self.last_timestamp {
                self.last_timestamp = now;
                self.pending
                    .extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
            }
        }
        if self.db != Some(db) {
            let db_text = db.to_string();
            crate::propagate::encode_command(
                &mut self.pending,
                [&b"SELECT"[..], db_text.as_bytes()].into_iter(),
            );
            self.db = Some(db);
        }
        self.pending.extend_from_slice(command);
        self.fed += (self.pending.len() - before) as u64;
    }
}
