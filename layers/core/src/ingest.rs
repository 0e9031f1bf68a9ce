//! Ingestion: PDFs → pages → chunks → vectors → a new index of the collection.
//!
//! Incremental: chunks whose text was already embedded reuse their vector; a document ingested
//! again replaces its previous chunks; a document that fails keeps its previous chunks.

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::chunk::{Chunk, ChunkParams, chunk_document};
use crate::embed::{EmbedError, Models};
use crate::index::{DocumentEntry, Index, Manifest, SkippedPage};
use crate::pdf;

/// One PDF to ingest.
#[derive(Debug, Clone)]
pub struct Document {
    /// File name, as it will be cited.
    pub name: String,
    pub bytes: Vec<u8>,
    pub password: Option<String>,
}

/// What happened to one document.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Indexed {
        pages: u32,
        chunks: u32,
        skipped_pages: Vec<SkippedPage>,
    },
    /// Same name, same bytes as the indexed version: nothing to do.
    Unchanged,
    Failed {
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentReport {
    pub name: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Summary of an ingest run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub documents: Vec<DocumentReport>,
    /// Pages read in this run.
    pub pages: u32,
    /// Chunks produced in this run.
    pub chunks: u32,
    /// Chunks that needed the model (the rest came from the previous index).
    pub embedded: u32,
    pub seconds: f64,
    pub parse_seconds: f64,
    pub embed_seconds: f64,
}

/// Progress notifications, for a progress bar.
#[derive(Debug, Clone)]
pub enum Progress {
    Parsed { document: String, pages: u32 },
    Embedding { done: usize, total: usize },
}

/// Passages per embedder call (between progress updates).
const EMBED_STEP: usize = 32;

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The collection without the named documents, or `None` when none of them is indexed.
/// Nothing is re-embedded.
pub fn remove(previous: &Index, names: &[String]) -> Option<Index> {
    let mut manifest = previous.manifest.clone();
    let before = manifest.documents.len();
    manifest.documents.retain(|d| !names.contains(&d.name));
    if manifest.documents.len() == before {
        return None;
    }
    manifest.created_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let keep: Vec<usize> = (0..previous.chunks.len())
        .filter(|&i| !names.contains(&previous.chunks[i].document))
        .collect();
    let chunks = keep.iter().map(|&i| previous.chunks[i].clone()).collect();
    let models = manifest.models.len();
    let mut vectors = vec![Vec::with_capacity(keep.len()); models];
    for &i in &keep {
        for (m, v) in previous.vectors_of(i).into_iter().enumerate() {
            vectors[m].push(v);
        }
    }
    Some(Index::build(
        manifest,
        chunks,
        vectors,
        &previous.language_neutral(),
    ))
}

/// Builds the collection's next index from the previous one (if any) and new documents.
pub fn ingest(
    previous: Option<&Index>,
    collection: &str,
    models: &Models,
    documents: Vec<Document>,
    params: ChunkParams,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Index, Report), EmbedError> {
    let started = Instant::now();
    // An index built by other models or chunking cannot be extended: start over.
    let previous =
        previous.filter(|p| p.manifest.models == models.ids() && p.manifest.chunking == params);
    let mut entries: Vec<DocumentEntry> =
        previous.map_or_else(Vec::new, |p| p.manifest.documents.clone());
    // Each chunk with its vectors (one per model), when already known.
    let mut kept: Vec<(Chunk, Option<Vec<Vec<f32>>>)> = previous.map_or_else(Vec::new, |p| {
        p.chunks
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), Some(p.vectors_of(i))))
            .collect()
    });
    let cache: HashMap<String, Vec<Vec<f32>>> =
        previous.map(Index::vector_cache).unwrap_or_default();

    let mut reports = Vec::new();
    let (mut pages, mut new_chunks) = (0u32, 0u32);
    for doc in documents {
        let sha = sha256_hex(&doc.bytes);
        if entries
            .iter()
            .any(|e| e.name == doc.name && e.sha256 == sha)
        {
            reports.push(DocumentReport {
                name: doc.name,
                outcome: Outcome::Unchanged,
            });
            continue;
        }
        let extracted = match pdf::extract(&doc.bytes, doc.password.as_deref()) {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(document = %doc.name, error = %e, "PDF not ingested");
                reports.push(DocumentReport {
                    name: doc.name,
                    outcome: Outcome::Failed {
                        reason: e.to_string(),
                    },
                });
                continue;
            }
        };
        let count = |s: &str| models.primary().count_tokens(s);
        let chunks = chunk_document(&doc.name, &extracted.pages, params, &count);
        let skipped_pages: Vec<SkippedPage> = extracted
            .pages
            .iter()
            .filter_map(|p| {
                p.skipped.clone().map(|reason| SkippedPage {
                    page: p.number,
                    reason,
                })
            })
            .collect();
        let n_pages = extracted.pages.len() as u32;
        progress(Progress::Parsed {
            document: doc.name.clone(),
            pages: n_pages,
        });
        pages += n_pages;
        new_chunks += chunks.len() as u32;
        kept.retain(|(c, _)| c.document != doc.name);
        entries.retain(|e| e.name != doc.name);
        entries.push(DocumentEntry {
            name: doc.name.clone(),
            sha256: sha,
            pages: n_pages,
            chunks: chunks.len() as u32,
            skipped_pages: skipped_pages.clone(),
        });
        reports.push(DocumentReport {
            name: doc.name,
            outcome: Outcome::Indexed {
                pages: n_pages,
                chunks: chunks.len() as u32,
                skipped_pages,
            },
        });
        kept.extend(chunks.into_iter().map(|c| {
            let v = cache.get(&c.indexed_text()).cloned();
            (c, v)
        }));
    }
    let parse_seconds = started.elapsed().as_secs_f64();

    let embed_started = Instant::now();
    let missing: Vec<usize> = (0..kept.len()).filter(|&i| kept[i].1.is_none()).collect();
    let texts: Vec<String> = missing.iter().map(|&i| kept[i].0.indexed_text()).collect();
    for (step, ids) in missing.chunks(EMBED_STEP).enumerate() {
        let batch: Vec<&str> = texts[step * EMBED_STEP..step * EMBED_STEP + ids.len()]
            .iter()
            .map(String::as_str)
            .collect();
        let per_model = models
            .iter()
            .map(|m| m.embed_passages(&batch))
            .collect::<Result<Vec<_>, _>>()?;
        for (j, &i) in ids.iter().enumerate() {
            kept[i].1 = Some(per_model.iter().map(|vs| vs[j].clone()).collect());
        }
        progress(Progress::Embedding {
            done: step * EMBED_STEP + ids.len(),
            total: missing.len(),
        });
    }
    let embed_seconds = embed_started.elapsed().as_secs_f64();

    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let mut vectors: Vec<Vec<Vec<f32>>> = vec![Vec::with_capacity(kept.len()); models.len()];
    let mut chunks = Vec::with_capacity(kept.len());
    for (chunk, per_model) in kept {
        for (m, v) in per_model.unwrap_or_default().into_iter().enumerate() {
            vectors[m].push(v);
        }
        chunks.push(chunk);
    }
    let manifest = Manifest {
        collection: collection.to_string(),
        models: models.ids(),
        chunking: params,
        created_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        documents: entries,
    };
    let index = Index::build(manifest, chunks, vectors, &models.language_neutral());
    let report = Report {
        documents: reports,
        pages,
        chunks: new_chunks,
        embedded: missing.len() as u32,
        seconds: started.elapsed().as_secs_f64(),
        parse_seconds,
        embed_seconds,
    };
    Ok((index, report))
}
