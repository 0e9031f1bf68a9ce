//! BM25 over stemmed, accent-folded words, for French and English text.

use std::collections::HashMap;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};

use crate::text::{Lang, detect_lang, fold, is_stop_word, words};

const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Stems of a text's content words in the given language.
pub fn terms(text: &str, lang: Lang) -> Vec<String> {
    let stemmer = Stemmer::create(match lang {
        Lang::En => Algorithm::English,
        Lang::Fr => Algorithm::French,
    });
    let folded = fold(text);
    words(&folded)
        .filter(|w| !is_stop_word(w) && (w.len() > 1 || w.chars().all(|c| c.is_ascii_digit())))
        .map(|w| stemmer.stem(w).into_owned())
        .collect()
}

/// French ↔ English IT vocabulary (glossary.tsv), so that a question also matches passages
/// written in the other language.
struct Glossary {
    /// Folded source phrase (as words) → target phrases, per source language.
    fr_en: HashMap<Vec<String>, Vec<String>>,
    en_fr: HashMap<Vec<String>, Vec<String>>,
    longest: usize,
}

static GLOSSARY: LazyLock<Glossary> =
    LazyLock::new(|| Glossary::parse(include_str!("glossary.tsv")));

impl Glossary {
    fn parse(tsv: &str) -> Glossary {
        let mut g = Glossary {
            fr_en: HashMap::new(),
            en_fr: HashMap::new(),
            longest: 1,
        };
        let key = |s: &str| -> Vec<String> { words(&fold(s)).map(str::to_string).collect() };
        for line in tsv.lines() {
            let Some((fr, en)) = line.split_once('\t') else {
                continue;
            };
            if line.starts_with('#') {
                continue;
            }
            let (kf, ke) = (key(fr), key(en));
            if kf.is_empty() || ke.is_empty() {
                continue;
            }
            g.longest = g.longest.max(kf.len()).max(ke.len());
            g.fr_en.entry(kf).or_default().push(en.trim().to_string());
            g.en_fr.entry(ke).or_default().push(fr.trim().to_string());
        }
        g
    }

    /// The glossary translations of the phrases found in `text` (longest match first).
    fn translate(&self, text: &str, from: Lang) -> String {
        let map = match from {
            Lang::Fr => &self.fr_en,
            Lang::En => &self.en_fr,
        };
        let folded = fold(text);
        let ws: Vec<String> = words(&folded).map(str::to_string).collect();
        let mut out: Vec<&str> = Vec::new();
        let mut i = 0;
        while i < ws.len() {
            let found = (1..=self.longest.min(ws.len() - i))
                .rev()
                .find_map(|n| map.get(&ws[i..i + n]).map(|t| (n, t)));
            match found {
                Some((n, targets)) => {
                    out.extend(targets.iter().map(String::as_str));
                    i += n;
                }
                None => i += 1,
            }
        }
        out.join(" ")
    }
}

/// A question's words translated through the IT glossary into the other language.
pub fn translate(question: &str) -> (String, Lang) {
    match detect_lang(question) {
        Lang::Fr => (GLOSSARY.translate(question, Lang::Fr), Lang::En),
        Lang::En => (GLOSSARY.translate(question, Lang::En), Lang::Fr),
    }
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

    /// BM25 score of every chunk for a question: its own words, plus their glossary translation
    /// into the other language so that passages in either language can match.
    pub fn scores(&self, question: &str) -> Vec<f32> {
        let mut scores = self.scores_of(question);
        let (translated, lang) = translate(question);
        if !translated.is_empty() {
            let stemmed = terms(&translated, lang);
            for (acc, s) in scores
                .iter_mut()
                .zip(self.scores_of_terms(&stemmed, &stemmed))
            {
                *acc += s;
            }
        }
        scores
    }

    /// The question stemmed as French and as English (its language is a guess and documents
    /// may be in the other one); each word counts once, with its best-scoring stem.
    fn scores_of(&self, question: &str) -> Vec<f32> {
        self.scores_of_terms(&terms(question, Lang::En), &terms(question, Lang::Fr))
    }

    fn scores_of_terms(&self, en: &[String], fr: &[String]) -> Vec<f32> {
        let n = self.lengths.len();
        let mut scores = vec![0f32; n];
        if n == 0 {
            return scores;
        }
        let avg = self.lengths.iter().map(|&l| l as f32).sum::<f32>() / n as f32;
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
    fn glossary_translates_phrases_longest_first() {
        let g = Glossary::parse(
            "# comment\nmot de passe\tpassword\ngestionnaire de mots de passe\tpassword manager\nmots\twords\nchiffré\tencrypted\n",
        );
        assert_eq!(
            g.translate(
                "Mon gestionnaire de mots de passe est-il chiffré ?",
                Lang::Fr
            ),
            "password manager encrypted"
        );
        assert_eq!(
            g.translate("Is the password encrypted?", Lang::En),
            "mot de passe chiffré"
        );
    }

    #[test]
    fn questions_match_passages_in_the_other_language() {
        let docs = [
            (
                "Users should be able to paste into the password field of a password manager.",
                Lang::En,
            ),
            ("Les imprimantes sont au deuxième étage.", Lang::Fr),
        ];
        let index = Bm25::build(docs);
        let s = index.scores("Peut-on coller dans le champ du mot de passe ?");
        assert!(s[0] > 0.0, "{s:?}");
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
