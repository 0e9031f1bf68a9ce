//! What extraction produces for each page, shared with chunking and the index manifests (which
//! compile without the PDF parser).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A paragraph or a heading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub text: String,
    pub heading: bool,
}

/// Why a page contributes no text to the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// No text layer (scanned image, blank page).
    NoText,
    /// Most glyphs come from fonts with no usable Unicode mapping (no ToUnicode).
    UnmappableFont { unmappable: usize, glyphs: usize },
    /// The decoded text looks like a broken font mapping.
    JunkText { ratio: f32 },
    /// A table of contents: titles and page numbers, no answers.
    TableOfContents,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::NoText => write!(f, "no text layer"),
            SkipReason::UnmappableFont { unmappable, glyphs } => write!(
                f,
                "{unmappable} of {} glyphs use a font without a usable ToUnicode map",
                unmappable + glyphs
            ),
            SkipReason::JunkText { ratio } => {
                write!(
                    f,
                    "{:.0}% of words look like a broken font encoding",
                    ratio * 100.0
                )
            }
            SkipReason::TableOfContents => write!(f, "table of contents"),
        }
    }
}

/// One page: its text blocks, or the reason it was skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Physical page number, 1-based.
    pub number: u32,
    pub blocks: Vec<Block>,
    pub skipped: Option<SkipReason>,
    /// Glyphs dropped because their font has no Unicode mapping (page kept when few).
    pub dropped_glyphs: usize,
}
