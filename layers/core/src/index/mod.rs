//! The search index of a collection: chunks, their vectors in HNSW graphs (instant-distance),
//! a BM25 lexical index, and the manifest describing how it was built.

mod dense;
mod file;
pub mod lexical;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

pub use file::{FORMAT_VERSION, IndexError};

use crate::chunk::{Chunk, ChunkParams};
use crate::embed::dot;
use crate::pdf::SkipReason;
use dense::DenseIndex;
use lexical::Bm25;

/// A page that contributed nothing to the index, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedPage {
    pub page: u32,
    #[serde(flatten)]
    pub reason: SkipReason,
}

/// One ingested document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentEntry {
    /// File name, as cited in answers.
    pub name: String,
    /// sha256 of the PDF bytes.
    pub sha256: String,
    pub pages: u32,
    pub chunks: u32,
    pub skipped_pages: Vec<SkippedPage>,
}

/// How an index was built; stored with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub collection: String,
    /// Embedding model ids, primary first: queries must be embedded by the same models.
    pub models: Vec<String>,
    pub chunking: ChunkParams,
    /// Seconds since the Unix epoch.
    pub created_at: u64,
    pub documents: Vec<DocumentEntry>,
}

impl Manifest {
    /// Content-derived version: same model, parameters and documents give the same version,
    /// so a duplicate ingest is recognised as a no-op.
    pub fn version(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut docs: Vec<(&str, &str)> = self
            .documents
            .iter()
            .map(|d| (d.name.as_str(), d.sha256.as_str()))
            .collect();
        docs.sort();
        let mut h = Sha256::new();
        h.update(FORMAT_VERSION.to_le_bytes());
        for m in &self.models {
            h.update(m.as_bytes());
            h.update([0]);
        }
        h.update(serde_json::to_vec(&self.chunking).unwrap_or_default());
        for (name, sha) in docs {
            h.update(name.as_bytes());
            h.update([0]);
            h.update(sha.as_bytes());
        }
        h.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// How candidates are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Retrieval {
    /// Embeddings only (HNSW).
    Dense,
    /// BM25 only.
    Lexical,
    /// Both, fused by reciprocal rank.
    #[default]
    Hybrid,
}

/// A retrieved chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Position of the chunk in [`Index::chunks`].
    pub chunk: usize,
    /// Cosine similarity between question and chunk.
    pub similarity: f32,
    /// BM25 score (0 when no question word matches).
    pub lexical: f32,
}

/// Candidates taken from each ranking before fusion.
const CANDIDATES: usize = 60;
/// Reciprocal rank fusion constant.
const RRF_K: f32 = 60.0;

/// A searchable collection.
pub struct Index {
    pub manifest: Manifest,
    pub chunks: Vec<Chunk>,
    /// One dense index per embedding model, in manifest order.
    dense: Vec<DenseIndex>,
    /// Vectors by model, then by chunk (a copy of the graphs' points in chunk order).
    vectors: Vec<Vec<Vec<f32>>>,
    lexical: Bm25,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("manifest", &self.manifest)
            .field("chunks", &self.chunks.len())
            .finish()
    }
}

impl Index {
    /// Builds an index from chunks and their vectors: `vectors[m][i]` is chunk `i` embedded by
    /// the manifest's model `m`; `language_neutral[m]` tells how model `m` ranks across
    /// languages (see [`crate::embed::Embedder::language_neutral`]).
    pub fn build(
        manifest: Manifest,
        chunks: Vec<Chunk>,
        vectors: Vec<Vec<Vec<f32>>>,
        language_neutral: &[bool],
    ) -> Self {
        let texts: Vec<String> = chunks.iter().map(Chunk::indexed_text).collect();
        let lexical = Bm25::build(
            texts
                .iter()
                .map(String::as_str)
                .zip(chunks.iter().map(|c| c.lang)),
        );
        let langs: Vec<_> = chunks.iter().map(|c| c.lang).collect();
        let dense = vectors
            .iter()
            .enumerate()
            .map(|(m, v)| {
                let neutral = language_neutral.get(m).copied().unwrap_or(false);
                DenseIndex::build(&langs, v, 2 * CANDIDATES, neutral)
            })
            .collect();
        Index {
            manifest,
            chunks,
            dense,
            vectors,
            lexical,
        }
    }

    /// The content-derived version of this index.
    pub fn version(&self) -> String {
        self.manifest.version()
    }

    /// Per model, whether its scores are left raw across languages (see [`DenseIndex`]).
    pub fn language_neutral(&self) -> Vec<bool> {
        self.dense
            .iter()
            .map(DenseIndex::language_neutral)
            .collect()
    }

    /// A chunk's vectors, one per model.
    pub fn vectors_of(&self, chunk: usize) -> Vec<Vec<f32>> {
        self.vectors.iter().map(|m| m[chunk].clone()).collect()
    }

    /// Cache of chunk vectors keyed by embedded text, to re-embed only what changed.
    pub fn vector_cache(&self) -> HashMap<String, Vec<Vec<f32>>> {
        (0..self.chunks.len())
            .map(|i| (self.chunks[i].indexed_text(), self.vectors_of(i)))
            .collect()
    }

    /// The best chunks for a question, at most one per page, best first. `queries[m]` is the
    /// question embedded by model `m`; similarities are reported for the first model.
    pub fn search(
        &self,
        queries: &[Vec<f32>],
        question: &str,
        k: usize,
        mode: Retrieval,
    ) -> Vec<Hit> {
        self.search_with(queries, question, k, mode, false)
    }

    /// As [`Index::search`]; `exact` replaces the HNSW graphs by full scans (to measure recall).
    pub fn search_with(
        &self,
        queries: &[Vec<f32>],
        question: &str,
        k: usize,
        mode: Retrieval,
        exact: bool,
    ) -> Vec<Hit> {
        if self.chunks.is_empty() || k == 0 || queries.len() != self.dense.len() {
            return Vec::new();
        }
        let lexical = self.lexical.scores(question);
        let lexical_ranking = || {
            let mut ranked: Vec<usize> = (0..lexical.len()).filter(|&i| lexical[i] > 0.0).collect();
            ranked.sort_by(|&a, &b| lexical[b].total_cmp(&lexical[a]));
            ranked.truncate(CANDIDATES);
            ranked
        };
        let dense_rankings = || -> Vec<Vec<usize>> {
            self.dense
                .iter()
                .zip(queries)
                .map(|(d, q)| {
                    d.ranking(q, CANDIDATES, exact)
                        .into_iter()
                        .take(CANDIDATES)
                        .map(|(c, _)| c)
                        .collect()
                })
                .collect()
        };
        let (ranking, lexical_best) = match mode {
            Retrieval::Dense => (fuse(dense_rankings()), None),
            Retrieval::Lexical => (lexical_ranking(), None),
            Retrieval::Hybrid => {
                let lexical = lexical_ranking();
                let best = lexical.first().copied();
                let mut lists = dense_rankings();
                lists.push(lexical);
                (fuse(lists), best)
            }
        };
        let page = |c: usize| (&self.chunks[c].document, self.chunks[c].page);
        let mut pages = HashSet::new();
        let mut chosen: Vec<usize> = ranking
            .into_iter()
            .filter(|&c| pages.insert(page(c)))
            .take(k)
            .collect();
        // The best lexical match keeps the last slot: a question's words often name its page
        // (a glossary term such as "jump kit", an error message) where the embedders, agreeing
        // with each other, rank it low enough for fusion to drop it.
        if let Some(best) = lexical_best
            && k > 1
            && !pages.contains(&page(best))
        {
            chosen.truncate(k - 1);
            chosen.push(best);
        }
        chosen
            .into_iter()
            .map(|c| Hit {
                chunk: c,
                similarity: dot(&queries[0], &self.vectors[0][c]),
                lexical: lexical[c],
            })
            .collect()
    }
}

/// Reciprocal rank fusion of ranked lists (a single list is kept as it is).
fn fuse(mut lists: Vec<Vec<usize>>) -> Vec<usize> {
    if lists.len() == 1 {
        return lists.pop().unwrap_or_default();
    }
    let mut fused: HashMap<usize, f32> = HashMap::new();
    for list in lists {
        for (rank, chunk) in list.into_iter().enumerate() {
            *fused.entry(chunk).or_default() += 1.0 / (RRF_K + rank as f32 + 1.0);
        }
    }
    let mut ranked: Vec<(usize, f32)> = fused.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.into_iter().map(|(c, _)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Lang;

    pub(crate) fn tiny_index() -> Index {
        let texts = [
            (
                "a.pdf",
                1,
                "Reset your password from the self-service portal.",
                Lang::En,
            ),
            (
                "a.pdf",
                1,
                "Passwords must have at least twelve characters.",
                Lang::En,
            ),
            (
                "a.pdf",
                2,
                "Connect to the VPN with the corporate client.",
                Lang::En,
            ),
            (
                "b.pdf",
                1,
                "Les imprimantes sont au deuxième étage.",
                Lang::Fr,
            ),
        ];
        let chunks: Vec<Chunk> = texts
            .iter()
            .map(|(d, p, t, l)| Chunk {
                document: d.to_string(),
                page: *p,
                section: None,
                text: t.to_string(),
                lang: *l,
            })
            .collect();
        // Orthogonal unit vectors make the expected nearest neighbour unambiguous.
        let vectors: Vec<Vec<f32>> = (0..4)
            .map(|i| (0..4).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
            .collect();
        let manifest = Manifest {
            collection: "default".into(),
            models: vec!["test".into()],
            chunking: ChunkParams::default(),
            created_at: 0,
            documents: vec![DocumentEntry {
                name: "a.pdf".into(),
                sha256: "ab".into(),
                pages: 3,
                chunks: 3,
                skipped_pages: vec![SkippedPage {
                    page: 3,
                    reason: SkipReason::UnmappableFont {
                        unmappable: 10,
                        glyphs: 2,
                    },
                }],
            }],
        };
        Index::build(manifest, chunks, vec![vectors], &[false])
    }

    #[test]
    fn dense_search_finds_the_nearest_and_dedupes_pages() {
        let index = tiny_index();
        let hits = index.search(&[vec![0.9, 0.436, 0.0, 0.0]], "", 3, Retrieval::Dense);
        assert_eq!(hits[0].chunk, 0);
        // Chunk 1 is on the same page as chunk 0: it is not listed again.
        assert!(hits.iter().all(|h| h.chunk != 1));
        assert!((hits[0].similarity - 0.9).abs() < 1e-5);
    }

    #[test]
    fn hybrid_combines_both_rankings() {
        let index = tiny_index();
        let hits = index.search(
            &[vec![0.0, 0.0, 0.0, 1.0]],
            "VPN client",
            2,
            Retrieval::Hybrid,
        );
        let found: Vec<usize> = hits.iter().map(|h| h.chunk).collect();
        assert!(found.contains(&2) && found.contains(&3));
        let lexical = index.search(&[vec![0.0; 4]], "VPN client", 2, Retrieval::Lexical);
        assert_eq!(lexical[0].chunk, 2);
        assert!(lexical[0].lexical > 0.0);
    }

    #[test]
    fn the_best_lexical_match_keeps_the_last_slot() {
        // 80 pages about printers that both embedders rank above the one page whose words
        // match the question: fusion alone would leave that page out of any short list.
        let mut chunks: Vec<Chunk> = (0..80)
            .map(|i| Chunk {
                document: "guide.pdf".into(),
                page: i + 1,
                section: None,
                text: format!("Printer queue number {i} is on floor two."),
                lang: Lang::En,
            })
            .collect();
        chunks.push(Chunk {
            document: "ir.pdf".into(),
            page: 7,
            section: None,
            text: "The jump kit holds a laptop and forensic tools.".into(),
            lang: Lang::En,
        });
        let kit = chunks.len() - 1;
        let vectors: Vec<Vec<f32>> = (0..chunks.len())
            .map(|i| {
                if i == kit {
                    vec![0.0, 1.0]
                } else {
                    let a = i as f32 * 0.01;
                    vec![a.cos(), a.sin()]
                }
            })
            .collect();
        let index = Index::build(
            tiny_index().manifest,
            chunks,
            vec![vectors.clone(), vectors],
            &[true, true],
        );
        let queries = [vec![1.0, 0.0], vec![1.0, 0.0]];
        let question = "What goes in the jump kit?";

        let hits = index.search(&queries, question, 5, Retrieval::Hybrid);
        assert_eq!(hits.len(), 5);
        assert_eq!(hits[4].chunk, kit, "the lexical best takes the last slot");
        assert_eq!(hits[0].chunk, 0, "the fused order is kept before it");

        let dense = index.search(&queries, question, 5, Retrieval::Dense);
        assert!(dense.iter().all(|h| h.chunk != kit));
        let one = index.search(&queries, question, 1, Retrieval::Hybrid);
        assert_eq!(one[0].chunk, 0, "a single slot stays the fused best");
    }

    #[test]
    fn version_depends_on_documents_only() {
        let mut m = tiny_index().manifest;
        let v1 = m.version();
        m.created_at = 99;
        assert_eq!(m.version(), v1);
        m.documents.push(DocumentEntry {
            name: "x.pdf".into(),
            sha256: "00".into(),
            pages: 1,
            chunks: 1,
            skipped_pages: vec![],
        });
        assert_ne!(m.version(), v1);
    }
}
