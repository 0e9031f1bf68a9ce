//! Index file format: a fixed header (magic, format version, payload length, sha256 of the
//! payload) followed by the postcard-encoded index. Anything that does not check out is refused
//! with a precise error before deserialisation starts.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::dense::DenseIndex;
use super::lexical::Bm25;
use super::{Index, Manifest};
use crate::chunk::Chunk;

const MAGIC: &[u8; 8] = b"RAGINDEX";
/// Bumped whenever the payload layout changes; older files are refused, not misread.
pub const FORMAT_VERSION: u32 = 2;
const HEADER_LEN: usize = 8 + 4 + 8 + 32;

/// Why an index file was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IndexError {
    #[error("not an index file (bad magic bytes)")]
    NotAnIndex,
    #[error("index format version {found} is not supported (this build reads version {expected})")]
    UnsupportedVersion { found: u32, expected: u32 },
    #[error("index file truncated: {found} of {expected} bytes")]
    Truncated { expected: u64, found: u64 },
    #[error("index file corrupt: checksum mismatch")]
    Checksum,
    #[error("index file corrupt: {0}")]
    Corrupt(String),
}

// The manifest travels as JSON text: its shape is designed for JSON (tagged enums, flattened
// fields), which a non-self-describing binary format cannot carry.
#[derive(Serialize)]
struct PayloadRef<'a> {
    manifest: String,
    chunks: &'a [Chunk],
    dense: &'a [DenseIndex],
    lexical: &'a Bm25,
}

#[derive(Deserialize)]
struct Payload {
    manifest: String,
    chunks: Vec<Chunk>,
    dense: Vec<DenseIndex>,
    lexical: Bm25,
}

impl Index {
    /// Serialises the index with its header.
    pub fn to_bytes(&self) -> Result<Vec<u8>, IndexError> {
        let manifest = serde_json::to_string(&self.manifest)
            .map_err(|e| IndexError::Corrupt(e.to_string()))?;
        let payload = postcard::to_stdvec(&PayloadRef {
            manifest,
            chunks: &self.chunks,
            dense: &self.dense,
            lexical: &self.lexical,
        })
        .map_err(|e| IndexError::Corrupt(e.to_string()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&Sha256::digest(&payload));
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// Reads an index, verifying header, length and checksum first.
    pub fn from_bytes(bytes: &[u8]) -> Result<Index, IndexError> {
        if bytes.len() < 8 || &bytes[..8] != MAGIC {
            return Err(IndexError::NotAnIndex);
        }
        if bytes.len() < HEADER_LEN {
            return Err(IndexError::Truncated {
                expected: HEADER_LEN as u64,
                found: bytes.len() as u64,
            });
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != FORMAT_VERSION {
            return Err(IndexError::UnsupportedVersion {
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&bytes[12..20]);
        let len = u64::from_le_bytes(len);
        let payload = &bytes[HEADER_LEN..];
        if payload.len() as u64 != len {
            return Err(IndexError::Truncated {
                expected: HEADER_LEN as u64 + len,
                found: bytes.len() as u64,
            });
        }
        if Sha256::digest(payload).as_slice() != &bytes[20..52] {
            return Err(IndexError::Checksum);
        }
        let p: Payload =
            postcard::from_bytes(payload).map_err(|e| IndexError::Corrupt(e.to_string()))?;
        let manifest: Manifest = serde_json::from_str(&p.manifest)
            .map_err(|e| IndexError::Corrupt(format!("manifest: {e}")))?;
        let vectors = p
            .dense
            .iter()
            .map(|d| d.vectors(p.chunks.len()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| IndexError::Corrupt("vectors do not match the chunks".into()))?;
        if vectors.len() != manifest.models.len() || p.lexical.len() != p.chunks.len() {
            return Err(IndexError::Corrupt(
                "chunks, vectors and lexical index disagree".into(),
            ));
        }
        Ok(Index {
            manifest,
            chunks: p.chunks,
            dense: p.dense,
            vectors,
            lexical: p.lexical,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::tiny_index;
    use super::*;

    #[test]
    fn round_trip_keeps_search_results() {
        let index = tiny_index();
        let bytes = index.to_bytes().expect("serialise");
        let back = Index::from_bytes(&bytes).expect("read back");
        assert_eq!(back.chunks, index.chunks);
        assert_eq!(back.manifest, index.manifest);
        let q = [vec![0.1, 0.2, 0.9, 0.1]];
        assert_eq!(
            back.search(&q, "vpn", 3, super::super::Retrieval::Hybrid),
            index.search(&q, "vpn", 3, super::super::Retrieval::Hybrid)
        );
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        let bytes = tiny_index().to_bytes().expect("serialise");
        assert_eq!(
            Index::from_bytes(b"hello").err(),
            Some(IndexError::NotAnIndex)
        );
        assert!(matches!(
            Index::from_bytes(&bytes[..bytes.len() - 10]).err(),
            Some(IndexError::Truncated { .. })
        ));
        assert!(matches!(
            Index::from_bytes(&bytes[..30]).err(),
            Some(IndexError::Truncated { .. })
        ));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        assert_eq!(
            Index::from_bytes(&flipped).err(),
            Some(IndexError::Checksum)
        );
        let mut newer = bytes;
        newer[8] = 99;
        assert!(matches!(
            Index::from_bytes(&newer).err(),
            Some(IndexError::UnsupportedVersion { found: 99, .. })
        ));
    }
}
