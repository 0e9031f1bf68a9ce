//! Token-aware chunking: sentences packed up to a token budget, with overlap, never across a
//! page boundary; each chunk keeps its document, page and section heading.

use serde::{Deserialize, Serialize};

use crate::pdf::Page;
use crate::text::{Lang, detect_lang};

/// Chunking parameters (recorded in the index manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkParams {
    /// Upper bound on a chunk's tokens (model tokenizer).
    pub max_tokens: usize,
    /// Tokens repeated from the end of the previous chunk of the same page.
    pub overlap_tokens: usize,
    /// A chunk smaller than this is not closed at a heading (avoids crumbs).
    pub min_tokens: usize,
}

impl Default for ChunkParams {
    fn default() -> Self {
        ChunkParams {
            max_tokens: 180,
            overlap_tokens: 36,
            min_tokens: 48,
        }
    }
}

/// A passage of one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Document file name.
    pub document: String,
    /// Physical page, 1-based.
    pub page: u32,
    /// The nearest heading above the passage (possibly from an earlier page).
    pub section: Option<String>,
    pub text: String,
    pub lang: Lang,
}

impl Chunk {
    /// The text given to the embedder and the lexical index: heading, then passage.
    pub fn indexed_text(&self) -> String {
        match &self.section {
            Some(s) if !self.text.starts_with(s.as_str()) => format!("{s}\n{}", self.text),
            _ => self.text.clone(),
        }
    }
}

/// Splits a paragraph into sentences (on . ! ? ; followed by a space and an upper-case letter,
/// digit or opening mark), keeping the punctuation.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for w in 0..chars.len() {
        let (i, c) = chars[w];
        if !matches!(c, '.' | '!' | '?' | ';' | '…') {
            continue;
        }
        let Some(&(_, next)) = chars.get(w + 1) else {
            continue;
        };
        let Some(&(j, after)) = chars.get(w + 2) else {
            continue;
        };
        let end = i + c.len_utf8();
        if next == ' '
            && (after.is_uppercase() || after.is_ascii_digit() || "«\"(•-–".contains(after))
            && !is_abbreviation(&text[start..end])
        {
            out.push(text[start..end].trim());
            start = j;
        }
    }
    if start < text.len() {
        out.push(text[start..].trim());
    }
    out.retain(|s| !s.is_empty());
    out
}

fn is_abbreviation(sentence: &str) -> bool {
    let last = sentence
        .trim_end_matches('.')
        .rsplit(' ')
        .next()
        .unwrap_or("")
        .to_lowercase();
    matches!(
        last.as_str(),
        "e.g"
            | "i.e"
            | "etc"
            | "cf"
            | "vs"
            | "no"
            | "fig"
            | "sec"
            | "p"
            | "pp"
            | "mr"
            | "dr"
            | "st"
            | "al"
            | "ex"
            | "env"
            | "art"
            | "vol"
    ) || (last.len() == 1 && last.chars().all(char::is_alphabetic))
}

/// Sentence-like units no longer than the budget: long sentences are split on words.
fn units<'a>(
    text: &'a str,
    max_tokens: usize,
    count: &dyn Fn(&str) -> usize,
) -> Vec<(&'a str, usize)> {
    let mut out = Vec::new();
    for s in sentences(text) {
        let n = count(s);
        if n <= max_tokens {
            out.push((s, n));
            continue;
        }
        // Split on word boundaries into pieces of about max_tokens.
        let words: Vec<(usize, &str)> = s
            .split(' ')
            .scan(0usize, |pos, w| {
                let start = *pos;
                *pos += w.len() + 1;
                Some((start, w))
            })
            .collect();
        let per_word = n as f32 / words.len().max(1) as f32;
        let step = ((max_tokens as f32 / per_word.max(0.1)) as usize).max(1);
        for group in words.chunks(step) {
            let from = group[0].0;
            let (last_start, last) = group[group.len() - 1];
            let piece = &s[from..last_start + last.len()];
            out.push((piece, count(piece)));
        }
    }
    out
}

/// Chunks the pages of one document. `count` is the model's token counter.
pub fn chunk_document(
    document: &str,
    pages: &[Page],
    params: ChunkParams,
    count: &dyn Fn(&str) -> usize,
) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut section: Option<String> = None;
    for page in pages {
        if page.skipped.is_some() {
            continue;
        }
        let mut current: Vec<(&str, usize)> = Vec::new();
        let mut current_section = section.clone();
        let flush = |current: &mut Vec<(&str, usize)>,
                     sec: &Option<String>,
                     keep_overlap: bool,
                     chunks: &mut Vec<Chunk>| {
            if current.is_empty() {
                return;
            }
            let text = current
                .iter()
                .map(|(s, _)| *s)
                .collect::<Vec<_>>()
                .join(" ");
            if text.split_whitespace().count() >= 4 {
                chunks.push(Chunk {
                    document: document.to_string(),
                    page: page.number,
                    section: sec.clone(),
                    lang: detect_lang(&text),
                    text,
                });
            }
            if keep_overlap {
                let mut tail = Vec::new();
                let mut n = 0;
                for &(s, t) in current.iter().rev() {
                    if n + t > params.overlap_tokens {
                        break;
                    }
                    n += t;
                    tail.push((s, t));
                }
                tail.reverse();
                *current = tail;
            } else {
                current.clear();
            }
        };
        for block in &page.blocks {
            if block.heading {
                let size: usize = current.iter().map(|(_, n)| n).sum();
                if size >= params.min_tokens {
                    flush(&mut current, &current_section, false, &mut chunks);
                    current_section = Some(block.text.clone());
                } else {
                    if current.is_empty() {
                        current_section = Some(block.text.clone());
                    }
                    current.push((block.text.as_str(), count(&block.text)));
                }
                section = Some(block.text.clone());
                continue;
            }
            for (unit, n) in units(&block.text, params.max_tokens, count) {
                let size: usize = current.iter().map(|(_, t)| t).sum();
                if size + n > params.max_tokens && !current.is_empty() {
                    flush(&mut current, &current_section, true, &mut chunks);
                    // An overlap alone never makes a chunk: drop it if the unit cannot fit.
                    let size: usize = current.iter().map(|(_, t)| t).sum();
                    if size + n > params.max_tokens {
                        current.clear();
                    }
                    current_section = section.clone();
                }
                current.push((unit, n));
            }
        }
        flush(&mut current, &current_section, false, &mut chunks);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::Block;

    fn words(s: &str) -> usize {
        s.split_whitespace().count()
    }

    fn page(number: u32, blocks: &[(&str, bool)]) -> Page {
        Page {
            number,
            blocks: blocks
                .iter()
                .map(|(t, h)| Block {
                    text: t.to_string(),
                    heading: *h,
                })
                .collect(),
            skipped: None,
            dropped_glyphs: 0,
        }
    }

    #[test]
    fn multibyte_sentence_ends_are_safe() {
        assert_eq!(sentences("Et ensuite… Voilà."), ["Et ensuite…", "Voilà."]);
    }

    #[test]
    fn splits_sentences_but_not_abbreviations() {
        let s =
            sentences("Use a VPN, e.g. the corporate one. Then log in! Is it ok? 3 steps remain.");
        assert_eq!(
            s,
            [
                "Use a VPN, e.g. the corporate one.",
                "Then log in!",
                "Is it ok?",
                "3 steps remain."
            ]
        );
    }

    #[test]
    fn chunks_respect_budget_overlap_and_pages() {
        let long: String = (0..30)
            .map(|i| format!("Sentence number {i} explains a step."))
            .collect::<Vec<_>>()
            .join(" ");
        let pages = [
            page(1, &[("1 Passwords", true), (&long, false)]),
            page(2, &[("Short text on the next page about tokens.", false)]),
        ];
        let params = ChunkParams {
            max_tokens: 40,
            overlap_tokens: 12,
            min_tokens: 10,
        };
        let chunks = chunk_document("doc.pdf", &pages, params, &words);
        assert!(chunks.len() >= 5);
        for c in &chunks {
            assert!(words(&c.text) <= 40, "chunk over budget: {}", c.text);
        }
        // Overlap: the next chunk of the same page opens with the end of the previous one.
        let first_of_second = sentences(&chunks[1].text)[0];
        assert!(
            chunks[0].text.ends_with(first_of_second) || chunks[0].text.contains(first_of_second)
        );
        assert!(
            chunks[1].text.contains(
                sentences(&chunks[0].text)
                    .last()
                    .copied()
                    .unwrap_or_default()
            )
        );
        // Page 2 starts a new chunk and inherits the section heading from page 1.
        let p2: Vec<&Chunk> = chunks.iter().filter(|c| c.page == 2).collect();
        assert_eq!(p2.len(), 1);
        assert_eq!(p2[0].text, "Short text on the next page about tokens.");
        assert_eq!(p2[0].section.as_deref(), Some("1 Passwords"));
        assert!(
            chunks
                .iter()
                .filter(|c| c.page == 1)
                .all(|c| c.section.as_deref() == Some("1 Passwords"))
        );
    }

    #[test]
    fn skipped_pages_give_no_chunks() {
        let mut p = page(1, &[("Some text that would be indexed.", false)]);
        p.skipped = Some(crate::pdf::SkipReason::NoText);
        assert!(chunk_document("d.pdf", &[p], ChunkParams::default(), &words).is_empty());
    }
}
