//! Where the history read by one run is kept for the next (`--cache-dir`): one file per key
//! (everything that changes the result), below `DIR/history/`. The file is a header line (the
//! format and the whole key) and the body; it is written to a temporary file, then renamed,
//! so that a reader sees the old file or the new one, never half of one. A file that is
//! missing, of another format or key, or cannot be read is not used: the history is then read
//! from git from the start, as without a cache.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The version of the file's layout: a file of another version is not read.
pub const FORMAT: u32 = 1;

/// The header line of a kept history.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Header {
    format: u32,
    key: String,
}

/// One kept history: its file and the key it must hold.
#[derive(Debug, Clone)]
pub struct IndexFile {
    path: PathBuf,
    key: String,
}

impl IndexFile {
    /// The file of `key` below `dir`.
    pub fn new(dir: &Path, key: String) -> Self {
        let digest = Sha256::digest(format!("{FORMAT}\n{key}").as_bytes());
        let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        IndexFile {
            path: dir.join("history").join(format!("{name}.json")),
            key,
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The kept body, when there is one of this format and key that can be read; else `None`,
    /// saying why (a file that exists but cannot be read is a warning in the log).
    pub fn load<T: DeserializeOwned>(&self) -> Option<T> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) => {
                log::debug!("no kept history at {}: {e}", self.path.display());
                return None;
            }
        };
        let mut reader = BufReader::new(file);
        let mut line = String::new();
        let header = reader
            .read_line(&mut line)
            .ok()
            .and_then(|_| serde_json::from_str::<Header>(&line).ok());
        let Some(header) = header else {
            log::warn!(
                "the kept history {} cannot be read; the history is read from git",
                self.path.display()
            );
            return None;
        };
        if header.format != FORMAT || header.key != self.key {
            log::debug!(
                "the kept history {} is of another format or key; not used",
                self.path.display()
            );
            return None;
        }
        match serde_json::from_reader(reader) {
            Ok(body) => Some(body),
            Err(e) => {
                log::warn!(
                    "the kept history {} cannot be read ({e}); the history is read from git",
                    self.path.display()
                );
                None
            }
        }
    }

    /// Keeps `body` for the next run; a failure is a warning in the log and nothing else.
    pub fn store<T: Serialize>(&self, body: &T) {
        if let Err(e) = self.write(body) {
            log::warn!(
                "the history could not be kept in {} for the next run: {e}",
                self.path.display()
            );
        }
    }

    fn write<T: Serialize>(&self, body: &T) -> anyhow::Result<()> {
        let dir = self
            .path
            .parent()
            .ok_or_else(|| anyhow::anyhow!("no folder"))?;
        std::fs::create_dir_all(dir)?;
        let tmp = tempfile::NamedTempFile::new_in(dir)?;
        let mut out = std::io::BufWriter::new(tmp);
        let header = Header {
            format: FORMAT,
            key: self.key.clone(),
        };
        serde_json::to_writer(&mut out, &header)?;
        out.write_all(b"\n")?;
        serde_json::to_writer(&mut out, body)?;
        out.write_all(b"\n")?;
        let tmp = out.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_comes_back_only_under_its_own_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = IndexFile::new(dir.path(), "a".into());
        assert_eq!(file.load::<Vec<u32>>(), None);
        file.store(&vec![1u32, 2, 3]);
        assert_eq!(file.load::<Vec<u32>>(), Some(vec![1, 2, 3]));
        let other = IndexFile::new(dir.path(), "b".into());
        assert_ne!(other.path(), file.path());
        assert_eq!(other.load::<Vec<u32>>(), None);
        // The same file name holding another key (as a collision would): not used.
        std::fs::copy(file.path(), other.path()).unwrap();
        assert_eq!(other.load::<Vec<u32>>(), None);
        // Cut short, or not JSON at all: not used.
        let text = std::fs::read_to_string(file.path()).unwrap();
        std::fs::write(file.path(), &text[..text.len() - 4]).unwrap();
        assert_eq!(file.load::<Vec<u32>>(), None);
        std::fs::write(file.path(), "garbage").unwrap();
        assert_eq!(file.load::<Vec<u32>>(), None);
        // Written again over it: the temporary files are gone.
        file.store(&vec![4u32]);
        assert_eq!(file.load::<Vec<u32>>(), Some(vec![4]));
        let names: Vec<_> = std::fs::read_dir(file.path().parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
