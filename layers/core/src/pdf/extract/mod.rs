//! Page text extraction with lopdf.
//!
//! lopdf reads the file structure (object and xref streams, incremental updates, damaged xref
//! tables rebuilt by scanning, encryption); this module interprets the page content itself so
//! that fonts without a usable Unicode mapping are detected and their pages flagged, never
//! indexed as junk.

mod budget;
mod cache;
mod cmap;
mod content;
mod font;
mod layout;
mod structure;

use std::panic::{AssertUnwindSafe, catch_unwind};

use lopdf::{Document, LoadOptions};

pub use budget::{Exceeded, Limits, Usage};

use super::{Page, SkipReason};
use crate::text::junk_ratio;

/// Why a PDF could not be read at all.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PdfError {
    #[error("not a readable PDF: {0}")]
    Unreadable(String),
    #[error("the PDF is encrypted and needs a password")]
    PasswordRequired,
    #[error("wrong password for the encrypted PDF")]
    WrongPassword,
    #[error("the PDF has no pages")]
    NoPages,
    #[error("the PDF exceeds its extraction budget: {0}")]
    OverBudget(#[from] Exceeded),
}

/// The text of a PDF.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub pages: Vec<Page>,
    /// The file was encrypted (and decrypted).
    pub encrypted: bool,
    /// The cross-reference data was damaged and rebuilt.
    pub repaired: bool,
    pub usage: Usage,
}

/// Share of unmappable glyphs above which a page is skipped rather than indexed partially.
const MAX_UNMAPPABLE_SHARE: f32 = 0.2;
/// Share of junk-looking words above which a page is skipped.
const MAX_JUNK_SHARE: f32 = 0.3;

/// What `extract` reports when the parser panicked (the fuzz test looks for it).
pub const PANIC_MESSAGE: &str = "the parser failed on this file";

/// Extracts the text of every page within the default [`Limits`]. `password` opens encrypted
/// files whose user password is not empty.
pub fn extract(bytes: &[u8], password: Option<&str>) -> Result<Extracted, PdfError> {
    extract_with_limits(bytes, password, Limits::default())
}

/// [`extract`] within the given limits; a document over one of them fails with
/// [`PdfError::OverBudget`].
pub fn extract_with_limits(
    bytes: &[u8],
    password: Option<&str>,
    limits: Limits,
) -> Result<Extracted, PdfError> {
    // lopdf is a parser of untrusted input: a panic inside it must not take the process down.
    catch_unwind(AssertUnwindSafe(|| extract_inner(bytes, password, limits)))
        .unwrap_or_else(|_| Err(PdfError::Unreadable(PANIC_MESSAGE.into())))
}

fn load(bytes: &[u8], password: Option<&str>, limits: &Limits) -> Result<Document, PdfError> {
    let options = LoadOptions {
        password: password.map(str::to_owned),
        // Object and xref streams are decoded while loading, each within this bound (lopdf
        // bounds each stream, not their sum).
        max_decompressed_size: Some(limits.decoded_bytes),
        ..LoadOptions::default()
    };
    match Document::load_mem_with_options(bytes, options) {
        Ok(doc) => Ok(doc),
        Err(lopdf::Error::Decryption(_)) | Err(lopdf::Error::InvalidPassword) => {
            Err(if password.is_some() {
                PdfError::WrongPassword
            } else {
                PdfError::PasswordRequired
            })
        }
        Err(e) => Err(PdfError::Unreadable(e.to_string())),
    }
}

fn extract_inner(
    bytes: &[u8],
    password: Option<&str>,
    limits: Limits,
) -> Result<Extracted, PdfError> {
    if !bytes.windows(5).take(1024).any(|w| w == b"%PDF-") {
        return Err(PdfError::Unreadable("no %PDF- header".into()));
    }
    let doc = load(bytes, password, &limits)?;
    if doc.is_encrypted() {
        return Err(if password.is_some() {
            PdfError::WrongPassword
        } else {
            PdfError::PasswordRequired
        });
    }
    // Not `get_pages`: it reserves room for the pages a (possibly forged) /Count announces.
    let mut page_ids = Vec::new();
    for id in doc.page_iter() {
        page_ids.push(id);
    }
    if page_ids.is_empty() {
        // lopdf leaves an encrypted file it could not open without objects.
        return Err(match (doc.trailer.has(b"Encrypt"), password) {
            (false, _) => PdfError::NoPages,
            (true, None) => PdfError::PasswordRequired,
            (true, Some(_)) => PdfError::WrongPassword,
        });
    }
    let mut cache = cache::Cache::new(&doc, budget::Budget::new(limits));
    let mut raw: Vec<(Vec<layout::Line>, usize, usize)> = Vec::with_capacity(page_ids.len());
    for &id in &page_ids {
        let content = content::page_content(&mut cache, id)?;
        let lines = layout::lines(&content.runs, &cache.budget)?;
        raw.push((lines, content.glyphs, content.unmappable));
    }
    cache.budget.check_time()?;
    let usage = cache.budget.usage();

    let mut lines: Vec<Vec<layout::Line>> =
        raw.iter_mut().map(|r| std::mem::take(&mut r.0)).collect();
    let toc: Vec<bool> = lines
        .iter()
        .map(|l| structure::is_table_of_contents(l))
        .collect();
    structure::strip_running_lines(&mut lines);
    let body = structure::body_size(&lines);
    let vocabulary = structure::vocabulary(&lines);

    let pages = lines
        .iter()
        .zip(raw)
        .zip(toc)
        .enumerate()
        .map(|(i, ((page_lines, (_, glyphs, unmappable)), toc))| {
            let number = i as u32 + 1;
            let blocks = structure::blocks(page_lines, body, &vocabulary);
            let text: String = blocks
                .iter()
                .map(|b| b.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let total = glyphs + unmappable;
            let skipped = if total > 0 && unmappable as f32 > MAX_UNMAPPABLE_SHARE * total as f32 {
                Some(SkipReason::UnmappableFont { unmappable, glyphs })
            } else if text.trim().is_empty() {
                Some(SkipReason::NoText)
            } else if toc {
                Some(SkipReason::TableOfContents)
            } else {
                let ratio = junk_ratio(&text);
                (ratio > MAX_JUNK_SHARE).then_some(SkipReason::JunkText { ratio })
            };
            Page {
                number,
                blocks: if skipped.is_some() {
                    Vec::new()
                } else {
                    blocks
                },
                skipped,
                dropped_glyphs: unmappable,
            }
        })
        .collect();
    Ok(Extracted {
        pages,
        encrypted: doc.was_encrypted(),
        repaired: doc.xref_recovery.is_some(),
        usage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_pdf_bytes() {
        assert!(matches!(
            extract(b"hello world", None),
            Err(PdfError::Unreadable(_))
        ));
        assert!(matches!(extract(b"", None), Err(PdfError::Unreadable(_))));
    }

    #[test]
    fn truncated_pdf_is_an_error_not_a_panic() {
        let r = extract(
            b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n",
            None,
        );
        assert!(r.is_err());
    }
}
