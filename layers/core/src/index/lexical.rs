//! BM25 over stemmed, accent-folded words, for French and English text.

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};

use crate::text::{Lang, fold, words};

const K1: f32 = 1.2;
const B: f32 = 0.75;

const STOP_WORDS: &[&str] = &[
    // English
    "a", "an", "and", "are", "as", "at", "be", "been", "by", "can", "could", "do", "does", "for",
    "from", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "may", "me", "my",
    "of", "on", "or", "our", "should", "so", "that", "the", "their", "them", "there", "these",
    "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "why",
    "will", "with", "would", "you", "your", "about", "any", "all", "not", "no", "than", "then",
    "also", "such", "must", "shall", "need", "use", "used", // French (folded)
    "au", "aux", "avec", "ce", "ces", "cet", "cette", "comment", "dans", "de", "des", "du", "elle",
    "en", "est", "et", "etre", "il", "ils", "je", "la", "le", "les", "leur", "lui", "ma", "mais",
    "me", "mes", "mon", "ne", "nos", "notre", "nous", "on", "ou", "par", "pas", "pour", "qu",
    "que", "quel", "quelle", "quels", "quelles", "qui", "sa", "se", "ses", "si", "son", "sont",
    "sur", "ta", "te", "tes", "ton", "tu", "un", "une", "vos", "votre", "vous", "y", "l", "d", "j",
    "c", "n", "s", "t", "m", "faire", "faut", "dois", "doit", "peut", "puis", "quoi", "a", "ai",
];

fn is_stop(w: &str) -> bool {
    STOP_WORDS.contains(&w)
}

/// Stems of a text's content words in the given language.
pub fn terms(text: &str, lang: Lang) -> Vec<String> {
    let stemmer = Stemmer::create(match lang {
        Lang::En => Algorithm::English,
        Lang::Fr => Algorithm::French,
    });
    let folded = fold(text);
    words(&folded)
        .filter(|w| !is_stop(w) && (w.len() > 1 || w.chars().all(|c| c.is_ascii_digit())))
        .map(|w| stemmer.stem(w).into_owned())
        .collect()
}

/// Inverted index with BM25 scoring.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Bm25 {
    vocabulary: HashMap<String, u32>,
    /// Per term: (chunk, term frequency).
    postings: Vec<Vec<(u32, u16)>>,
    lengths: Vec<u32>,
}

impl Bm25 {
    /// Indexes texts (one per chunk, in chunk order) with their languages.
    pub fn build<'a>(texts: impl IntoIterator<Item = (&'a str, Lang)>) -> Self {
        let mut index = Bm25::default();
        for (chunk, (text, lang)) in texts.into_iter().enumerate() {
            let terms = terms(text, lang);
            index.lengths.push(terms.len() as u32);
            let mut tf: HashMap<&str, u16> = HashMap::new();
            for t in &terms {
                *tf.entry(t.as_str()).or_default() += 1;
            }
            for (t, n) in tf {
                let next = index.vocabulary.len() as u32;
                let id = *index.vocabulary.entry(t.to_string()).or_insert(next);
                if id as usize == index.postings.len() {
                    index.postings.push(Vec::new());
                }
                index.postings[id as usize].push((chunk as u32, n));
            }
        }
        index
    }

    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// BM25 score of every chunk for a question. The question is stemmed as French and as
    /// English (its language is a guess and documents may be in the other one); each question
    /// word counts once, with its best-scoring stem.
    pub fn scores(&self, question: &str) -> Vec<f32> {
        let n = self.lengths.len();
        let mut scores = vec![0f32; n];
        if n == 0 {
            return scores;
        }
        let avg = self.lengths.iter().map(|&l| l as f32).sum::<f32>() / n as f32;
        let en = terms(question, Lang::En);
        let fr = terms(question, Lang::Fr);
        let mut seen = std::collections::HashSet::new();
        for (e, f) in en.iter().zip(fr.iter()) {
            if !seen.insert((e.clone(), f.clone())) {
                continue;
            }
            let mut best = vec![0f32; n];
            for term in [e, f] {
                let Some(&id) = self.vocabulary.get(term.as_str()) else {
                    continue;
                };
                let postings = &self.postings[id as usize];
                let df = postings.len() as f32;
                let idf = ((n as f32 - df + 0.5) / (df + 0.5) + 1.0).ln();
                for &(chunk, tf) in postings {
                    let tf = f32::from(tf);
                    let len = self.lengths[chunk as usize] as f32;
                    let s = idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg.max(1.0)));
                    let slot = &mut best[chunk as usize];
                    *slot = slot.max(s);
                }
            }
            for (acc, b) in scores.iter_mut().zip(best) {
                *acc += b;
            }
        }
        scores
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_folds() {
        assert_eq!(
            terms("Réinitialiser les mots de passe", Lang::Fr),
            ["reinitialis", "mot", "pass"]
        );
        assert_eq!(
            terms("Resetting the passwords", Lang::En),
            ["reset", "password"]
        );
    }

    #[test]
    fn ranks_matching_chunks_first() {
        let docs = [
            (
                "Configure the VPN client before connecting remotely.",
                Lang::En,
            ),
            (
                "Les mots de passe doivent comporter douze caractères.",
                Lang::Fr,
            ),
            ("Printers are on the second floor.", Lang::En),
        ];
        let index = Bm25::build(docs);
        let s = index.scores("Quelle longueur pour un mot de passe ?");
        assert!(s[1] > s[0] && s[1] > s[2]);
        let s = index.scores("vpn connection");
        assert!(s[0] > 0.0 && s[1] == 0.0);
    }
}
