//! Text normalisation shared by extraction, chunking and lexical search.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Cleans one line of extracted text: ligatures expanded, soft hyphens and control characters
/// removed, exotic spaces made plain, dot leaders dropped, whitespace collapsed.
pub fn clean_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}' | '\u{FFFD}' => {}
            '\u{2010}' | '\u{2011}' => out.push('-'),
            '\u{2018}' | '\u{2019}' | '\u{02BC}' => out.push('\''),
            c if c.is_whitespace() => out.push(' '),
            c if c.is_control() => {}
            c if ('\u{E000}'..='\u{F8FF}').contains(&c) => {}
            c => out.push(c),
        }
    }
    let out = drop_leaders(&out);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Removes table-of-contents dot leaders ("Title ........ 12" → "Title 12").
fn drop_leaders(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dots = String::new();
    let mut count = 0;
    for c in s.chars() {
        if c == '.' || c == '…' || (c == ' ' && count > 0) {
            dots.push(c);
            if c != ' ' {
                count += if c == '…' { 3 } else { 1 };
            }
        } else {
            if count >= 4 {
                out.push(' ');
            } else {
                out.push_str(&dots);
            }
            dots.clear();
            count = 0;
            out.push(c);
        }
    }
    if count >= 4 {
        out.push(' ');
    } else {
        out.push_str(&dots);
    }
    out
}

/// Lower-cases and strips accents ("Sécurité" → "securite"), for matching and lexical search.
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'œ' => 'o',
            'æ' => 'a',
            _ => c,
        })
        .collect()
}

/// Words of a text: maximal runs of alphanumeric characters (apostrophes split words, so
/// "l'authentification" gives "l" and "authentification").
pub fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Function words of English and French (accent-folded), left out of lexical search and
/// cluster labels.
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

/// True for a folded function word ("the", "de", "etre").
pub fn is_stop_word(w: &str) -> bool {
    STOP_WORDS.contains(&w)
}

/// Language of a text, from stop-word counts; English when undecided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

const FR_MARKERS: &[&str] = &[
    "le", "la", "les", "des", "du", "de", "un", "une", "et", "est", "pour", "que", "qui", "dans",
    "sur", "au", "aux", "avec", "ne", "pas", "par", "son", "sa", "ses", "mon", "ma", "mes", "je",
    "vous", "nous", "il", "elle", "ce", "cette", "comment", "quoi", "quel", "quelle", "quels",
    "faire", "faut", "dois", "puis", "peut", "être", "sont", "ou", "où", "si", "se", "l", "d", "j",
    "qu", "c", "n", "s",
];
const EN_MARKERS: &[&str] = &[
    "the", "a", "an", "and", "is", "are", "to", "of", "in", "for", "on", "with", "that", "this",
    "it", "be", "by", "or", "not", "how", "what", "which", "who", "when", "should", "can", "do",
    "does", "i", "my", "we", "you", "your", "if", "from", "as", "at", "have", "has", "must",
];

/// Guesses French or English.
pub fn detect_lang(s: &str) -> Lang {
    let mut fr = 0usize;
    let mut en = 0usize;
    for w in words(s) {
        let w = w.to_lowercase();
        if FR_MARKERS.contains(&w.as_str()) {
            fr += 1;
        }
        if EN_MARKERS.contains(&w.as_str()) {
            en += 1;
        }
    }
    let accents = s.chars().filter(|c| "éèêàçùâîôûëïœ".contains(*c)).count();
    if fr * 2 + accents > en * 2 {
        Lang::Fr
    } else {
        Lang::En
    }
}

/// Share of a text's alphabetic words that look like junk from a broken font mapping
/// (no vowel, or case flipping inside the word like "SURVWĜHGN\QD"). Latin script only.
pub fn junk_ratio(s: &str) -> f32 {
    let mut total = 0usize;
    let mut junk = 0usize;
    for w in words(s) {
        if w.chars().count() < 4 || !w.chars().all(char::is_alphabetic) {
            continue;
        }
        if !w
            .chars()
            .all(|c| c.is_ascii() || ('\u{C0}'..='\u{24F}').contains(&c))
        {
            continue;
        }
        total += 1;
        let folded = fold(w);
        let has_vowel = folded.chars().any(|c| "aeiouy".contains(c));
        let flips = w
            .chars()
            .zip(w.chars().skip(1))
            .filter(|(a, b)| a.is_lowercase() && b.is_uppercase())
            .count();
        if !has_vowel || flips >= 2 {
            junk += 1;
        }
    }
    if total == 0 {
        0.0
    } else {
        junk as f32 / total as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_ligatures_spaces_and_leaders() {
        assert_eq!(
            clean_line("con\u{FB01}guration\u{00A0} du\tpare-feu"),
            "configuration du pare-feu"
        );
        assert_eq!(
            clean_line("3.2 Remote Access ............ 14"),
            "3.2 Remote Access 14"
        );
        assert_eq!(clean_line("Intro . . . . . . . 3"), "Intro 3");
        assert_eq!(clean_line("e.g. the end..."), "e.g. the end...");
    }

    #[test]
    fn folds_accents() {
        assert_eq!(fold("Sécurité Œuvre À"), "securite ouvre a");
    }

    #[test]
    fn detects_language() {
        assert_eq!(
            detect_lang("Comment réinitialiser mon mot de passe ?"),
            Lang::Fr
        );
        assert_eq!(detect_lang("How do I reset my password?"), Lang::En);
        assert_eq!(detect_lang("VPN"), Lang::En);
    }

    #[test]
    fn junk_words_are_detected() {
        assert!(junk_ratio("3HQČåQtSURVWĜHGN\\QD~þWHFK SURVWĜ GKQWW") > 0.5);
        assert!(junk_ratio("The quick brown fox jumps over the lazy dog") < 0.1);
        assert!(junk_ratio("Réinitialiser le mot de passe depuis le portail") < 0.1);
    }
}
