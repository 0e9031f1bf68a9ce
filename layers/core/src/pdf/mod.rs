//! PDF pages: their text blocks and skip reasons, and (with the `pdf` feature) their extraction
//! from a file with lopdf.

#[cfg(feature = "pdf")]
mod extract;
mod page;

#[cfg(feature = "pdf")]
pub use extract::{
    Exceeded, Extracted, Limits, PANIC_MESSAGE, PdfError, Usage, extract, extract_with_limits,
};
pub use page::{Block, Page, SkipReason};
