//! Cluster labels: the words that set a cluster's questions apart from the others, by
//! class-based TF-IDF (c-TF-IDF, as in BERTopic): a word's count in the cluster times
//! ln(1 + average words per cluster / the word's count over all clusters).

use std::collections::HashMap;

use crate::text::{fold, is_stop_word, words};

/// Words too generic to name a topic of support questions (folded, English and French), beyond
/// the function words of [`is_stop_word`]: "pourquoi", "important", "selon l'ouvrage" and the like.
const GENERIC: &[&str] = &[
    "according",
    "afin",
    "after",
    "ainsi",
    "another",
    "apres",
    "aussi",
    "autre",
    "autres",
    "avant",
    "avoir",
    "before",
    "being",
    "best",
    "between",
    "bien",
    "bonne",
    "bonnes",
    "book",
    "car",
    "chapitre",
    "chapter",
    "chaque",
    "comme",
    "common",
    "considered",
    "define",
    "definir",
    "describe",
    "described",
    "difference",
    "different",
    "differentes",
    "differents",
    "donc",
    "dont",
    "during",
    "each",
    "effective",
    "effectively",
    "efficace",
    "efficacement",
    "elles",
    "ensure",
    "entre",
    "example",
    "examples",
    "exemple",
    "exemples",
    "explain",
    "expliquer",
    "following",
    "give",
    "good",
    "help",
    "helps",
    "importance",
    "important",
    "importante",
    "key",
    "livre",
    "lors",
    "main",
    "make",
    "many",
    "meilleure",
    "meilleures",
    "mentioned",
    "mieux",
    "more",
    "most",
    "much",
    "one",
    "other",
    "others",
    "ouvrage",
    "peuvent",
    "plus",
    "pourquoi",
    "principal",
    "principale",
    "principales",
    "principaux",
    "quand",
    "quelques",
    "role",
    "selon",
    "some",
    "three",
    "tous",
    "tout",
    "toute",
    "toutes",
    "tres",
    "trois",
    "two",
    "using",
    "way",
    "ways",
    "within",
];

/// Words shorter than this (in characters) are not label material.
const MIN_CHARS: usize = 3;

/// A label word: the folded form it is counted under, and the form it was written in.
fn tokens(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    words(text).filter_map(|w| {
        let key = fold(w);
        let keep = key.chars().count() >= MIN_CHARS
            && !key.chars().all(|c| c.is_ascii_digit())
            && !is_stop_word(&key)
            && !GENERIC.contains(&key.as_str());
        keep.then(|| (key, w.to_lowercase()))
    })
}

/// The `top` most distinctive words of each cluster (given as its questions), best first,
/// each shown in its most frequent written form ("sécurité" rather than "securite").
pub(super) fn distinctive_terms(clusters: &[Vec<&str>], top: usize) -> Vec<Vec<String>> {
    let mut per_cluster: Vec<HashMap<String, usize>> = vec![HashMap::new(); clusters.len()];
    let mut overall: HashMap<String, usize> = HashMap::new();
    let mut forms: HashMap<String, HashMap<String, usize>> = HashMap::new();
    let mut total = 0usize;
    for (counts, texts) in per_cluster.iter_mut().zip(clusters) {
        for (key, form) in texts.iter().flat_map(|t| tokens(t)) {
            *counts.entry(key.clone()).or_default() += 1;
            *overall.entry(key.clone()).or_default() += 1;
            *forms.entry(key).or_default().entry(form).or_default() += 1;
            total += 1;
        }
    }
    let average = total as f64 / clusters.len().max(1) as f64;
    per_cluster
        .iter()
        .map(|counts| {
            let mut scored: Vec<(f64, &String)> = counts
                .iter()
                .map(|(key, &tf)| {
                    let weight = tf as f64 * (1.0 + average / overall[key] as f64).ln();
                    (weight, key)
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            scored
                .into_iter()
                .take(top)
                .map(|(_, key)| display_form(&forms[key]))
                .collect()
        })
        .collect()
}

/// The most frequent written form; on a tie the accented one, which sorts after plain ASCII.
fn display_form(forms: &HashMap<String, usize>) -> String {
    forms
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| a.0.cmp(b.0)))
        .map(|(form, _)| form.clone())
        .unwrap_or_default()
}
