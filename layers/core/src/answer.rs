//! The extractive answerer (the embedded default generator): the sentences of the retrieved
//! passages closest to the question, with citations, or an honest "not in the documentation".

use crate::chunk::{Chunk, sentences};
use crate::embed::{EmbedError, Embedder, dot};
use crate::index::Hit;
use crate::index::lexical::terms;
use crate::text::{Lang, detect_lang};

/// Below this cosine similarity between the question and its best passage, the documentation
/// is taken not to contain the answer. e5 similarities are bunched (0.80-0.90 for anything on
/// topic), so the value is calibrated with `rag eval` on tests/eval/qa.jsonl
/// (see docs/evaluation.md), not guessed.
pub const DEFAULT_MIN_SIMILARITY: f32 = 0.85;

/// Cross-language pairs score lower than same-language pairs of equal relevance; their
/// similarity gets this bonus before the threshold applies (measured on the eval set: the
/// best cross-language out-of-scope match is ~0.03 below the same-language one).
pub const CROSS_LANGUAGE_BONUS: f32 = 0.025;

/// Passages whose sentences may be quoted.
const ANSWER_PASSAGES: usize = 2;
/// Candidate sentences embedded per question.
const MAX_CANDIDATES: usize = 16;
const MAX_ANSWER_WORDS: usize = 70;
const MAX_ANSWER_SENTENCES: usize = 3;
/// Sentence scoring: similarity to the question, plus shared words, minus the passage's rank.
const OVERLAP_WEIGHT: f32 = 0.05;
const RANK_PENALTY: f32 = 0.01;
const QUESTION_PENALTY: f32 = 0.05;

/// The answer when the documentation does not cover the question.
pub fn not_in_documentation(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "Je n'ai pas cette information dans la documentation.",
        Lang::En => "I don't have this information in the documentation.",
    }
}

fn lead_in(question: Lang, passage: Lang) -> &'static str {
    match (question, passage) {
        (Lang::Fr, Lang::En) => "D'après la documentation (en anglais) : ",
        (Lang::En, Lang::Fr) => "According to the documentation (in French): ",
        _ => "",
    }
}

/// The strength of the best evidence: the highest similarity, cross-language pairs adjusted.
pub fn evidence(hits: &[Hit], chunks: &[Chunk], question: Lang) -> f32 {
    hits.iter()
        .map(|h| {
            let bonus = if chunks[h.chunk].lang == question {
                0.0
            } else {
                CROSS_LANGUAGE_BONUS
            };
            h.similarity + bonus
        })
        .fold(0.0, f32::max)
}

/// An answer and whether it is grounded in the passages.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    pub text: String,
    pub grounded: bool,
}

/// Builds the answer from ranked hits (`chunks[hit.chunk]`); citations `[n]` refer to the hit's
/// 1-based position.
pub fn answer(
    question: &str,
    query: &[f32],
    hits: &[Hit],
    chunks: &[Chunk],
    embedder: &dyn Embedder,
    min_similarity: f32,
) -> Result<Extracted, EmbedError> {
    let lang = detect_lang(question);
    if evidence(hits, chunks, lang) < min_similarity {
        return Ok(Extracted {
            text: not_in_documentation(lang).to_string(),
            grounded: false,
        });
    }
    // Candidate sentences from the best passages; the answer is a contiguous span of one
    // passage, starting at the sentence that best matches the question, so that steps and
    // explanations are quoted in their order rather than stitched together.
    let passages: Vec<Vec<&str>> = hits
        .iter()
        .take(ANSWER_PASSAGES)
        .map(|h| sentences(&chunks[h.chunk].text))
        .collect();
    let mut candidates: Vec<(usize, usize)> = Vec::new();
    for (rank, list) in passages.iter().enumerate() {
        for (pos, s) in list.iter().enumerate() {
            if s.split_whitespace().count() >= 4 && candidates.len() < MAX_CANDIDATES {
                candidates.push((rank, pos));
            }
        }
    }
    if candidates.is_empty() {
        return Ok(Extracted {
            text: format!("{} [1]", excerpt(&chunks[hits[0].chunk].text, 400)),
            grounded: true,
        });
    }
    let texts: Vec<&str> = candidates.iter().map(|&(r, p)| passages[r][p]).collect();
    let vectors = embedder.embed_passages(&texts)?;
    let question_terms = terms(question, lang);
    let score = |(rank, pos): (usize, usize), v: &[f32]| {
        let s = passages[rank][pos];
        let sentence_lang = chunks[hits[rank].chunk].lang;
        let s_terms = terms(s, sentence_lang);
        let overlap = question_terms
            .iter()
            .filter(|t| s_terms.contains(t))
            .count() as f32
            / question_terms.len().max(1) as f32;
        // Sentences that are themselves questions (FAQ headings) restate, they do not answer.
        let asks = if s.trim_end().ends_with('?') {
            QUESTION_PENALTY
        } else {
            0.0
        };
        dot(query, v) + OVERLAP_WEIGHT * overlap - RANK_PENALTY * rank as f32 - asks
    };
    let (best, _) = candidates
        .iter()
        .zip(&vectors)
        .map(|(&c, v)| (c, score(c, v)))
        .fold(
            ((0, 0), f32::MIN),
            |acc, x| if x.1 > acc.1 { x } else { acc },
        );
    let (rank, start) = best;
    let mut span = Vec::new();
    let mut words = 0;
    for s in &passages[rank][start..] {
        let n = s.split_whitespace().count();
        if !span.is_empty() && (words + n > MAX_ANSWER_WORDS || span.len() == MAX_ANSWER_SENTENCES)
        {
            break;
        }
        span.push(*s);
        words += n;
    }
    let passage_lang = chunks[hits[rank].chunk].lang;
    Ok(Extracted {
        text: format!(
            "{}{} [{}]",
            lead_in(lang, passage_lang),
            span.join(" "),
            rank + 1
        ),
        grounded: true,
    })
}

/// A short excerpt of a passage for the sources list: whole words, at most `max_chars`.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut out = String::new();
    for w in text.split_whitespace() {
        if out.chars().count() + w.chars().count() + 1 > max_chars {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_on_words() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("one two three four", 10), "one two…");
    }

    #[test]
    fn refusal_follows_the_question_language() {
        assert!(not_in_documentation(Lang::Fr).starts_with("Je n'ai pas"));
        assert_eq!(lead_in(Lang::Fr, Lang::Fr), "");
        assert!(lead_in(Lang::Fr, Lang::En).contains("anglais"));
    }
}
