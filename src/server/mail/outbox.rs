//! The dev outbox: each message as `<uuidv7>.eml` (what an SMTP server would have received) plus a small
//! `<uuidv7>.json` index entry, so listing does not have to parse MIME.

use std::path::PathBuf;

use lettre::message::Mailbox;
use lettre::Message;

use crate::types::OutboxEntry;

#[derive(Clone, Debug)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub async fn write(&self, message: &Message, to: &Mailbox, subject: &str) -> std::io::Result<()> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let id = uuid::Uuid::now_v7().to_string();
        let file = format!("{id}.eml");
        tokio::fs::write(self.dir.join(&file), message.formatted()).await?;
        let entry = OutboxEntry {
            file,
            to: to.email.to_string(),
            subject: subject.to_string(),
            written_at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        };
        let json = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        tokio::fs::write(self.dir.join(format!("{id}.json")), json).await
    }

    /// Every message, newest first (UUIDv7 file names sort by time).
    pub async fn list(&self) -> std::io::Result<Vec<OutboxEntry>> {
        let mut entries = Vec::new();
        let mut dir = match tokio::fs::read_dir(&self.dir).await {
            Ok(dir) => dir,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(entries),
            Err(e) => return Err(e),
        };
        while let Some(item) = dir.next_entry().await? {
            if item.path().extension().is_some_and(|e| e == "json") {
                let bytes = tokio::fs::read(item.path()).await?;
                if let Ok(entry) = serde_json::from_slice::<OutboxEntry>(&bytes) {
                    entries.push(entry);
                }
            }
        }
        entries.sort_by(|a, b| b.file.cmp(&a.file));
        Ok(entries)
    }
}
