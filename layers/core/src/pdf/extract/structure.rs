//! Document-level cleanup of extracted lines: running headers and footers, tables of contents,
//! headings, paragraphs and hyphenation.

use std::collections::{HashMap, HashSet};

use super::layout::Line;
use crate::pdf::Block;
use crate::text::{clean_line, fold, words};

/// Lines at the top or bottom of a page that may be running headers/footers.
const EDGE_LINES: usize = 3;

fn edge_key(text: &str) -> String {
    fold(text)
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// "12", "Page 3 / 83", "- 5 -", "iv": lines that are only a page number.
fn is_page_number(text: &str) -> bool {
    let t = fold(text);
    let t = t.trim_matches(|c: char| c == '-' || c == '–' || c.is_whitespace());
    let t = t.strip_prefix("page").unwrap_or(t).trim();
    !t.is_empty()
        && (t
            .chars()
            .all(|c| c.is_ascii_digit() || c == '/' || c == ' ' || c == 'o' || c == 'f')
            && t.chars().any(|c| c.is_ascii_digit())
            || (t.len() <= 5 && t.chars().all(|c| "ivxlc".contains(c))))
}

/// Lines that may be running headers/footers: the first and last few, and margin banners.
fn running_candidates(lines: &[Line]) -> impl Iterator<Item = usize> + '_ {
    let n = lines.len();
    let bottom = n.saturating_sub(EDGE_LINES).max(EDGE_LINES.min(n));
    (0..n).filter(move |&i| i < EDGE_LINES || i >= bottom || lines[i].rotated)
}

/// Removes running headers/footers: edge lines whose digit-blind text repeats on many pages.
pub fn strip_running_lines(pages: &mut [Vec<Line>]) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for lines in pages.iter() {
        let keys: HashSet<String> = running_candidates(lines)
            .map(|i| edge_key(&lines[i].text))
            .collect();
        for k in keys {
            *counts.entry(k).or_default() += 1;
        }
    }
    let threshold = (pages.len() * 2 / 5).max(3);
    for lines in pages.iter_mut() {
        let drop: HashSet<usize> = running_candidates(lines)
            .filter(|&i| {
                counts.get(&edge_key(&lines[i].text)).copied().unwrap_or(0) >= threshold
                    || is_page_number(&lines[i].text)
            })
            .collect();
        let mut i = 0;
        lines.retain(|_| {
            i += 1;
            !drop.contains(&(i - 1))
        });
    }
}

/// A table-of-contents page: most lines are titles ending in a page number, with dot leaders or
/// with page numbers that never decrease.
pub fn is_table_of_contents(lines: &[Line]) -> bool {
    let mut entries = 0usize;
    let mut leaders = 0usize;
    let mut increasing = 0usize;
    let mut last = 0u32;
    for line in lines {
        let t = line.text.trim_end();
        let body = t.trim_end_matches(|c: char| c.is_ascii_digit());
        let digits = &t[body.len()..];
        if digits.is_empty()
            || digits.len() > 3
            || !body.ends_with([' ', '.', '…'])
            || !body.chars().any(char::is_alphabetic)
        {
            continue;
        }
        entries += 1;
        let body = body.trim_end();
        if body.ends_with("....") || body.ends_with(". . .") || body.ends_with('…') {
            leaders += 1;
        }
        let n: u32 = digits.parse().unwrap_or(0);
        if n >= last {
            increasing += 1;
        }
        last = n;
    }
    let with_leaders = leaders >= 5 && leaders * 5 >= lines.len() * 2;
    let numbered = entries >= 5 && entries * 5 >= lines.len() * 3 && increasing * 10 >= entries * 9;
    with_leaders || numbered
}

/// The font size carrying most characters in the document: the body text size.
pub fn body_size(pages: &[Vec<Line>]) -> f32 {
    let mut hist: HashMap<i32, usize> = HashMap::new();
    for line in pages.iter().flatten() {
        *hist.entry((line.size * 2.0).round() as i32).or_default() += line.text.len();
    }
    hist.into_iter()
        .max_by_key(|&(size, n)| (n, -size))
        .map_or(10.0, |(s, _)| s as f32 / 2.0)
}

fn is_heading(line: &Line, text: &str, body: f32) -> bool {
    let len = text.chars().count();
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if len < 3 || letters * 2 < len || len > 120 {
        return false;
    }
    let larger = line.size >= body * 1.15;
    let bold_title = line.bold
        && line.size >= body * 0.85
        && len <= 90
        && !text.ends_with(['.', ',', ';', ':'])
        && text
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
    larger || bold_title
}

/// Joins a line to the paragraph so far, undoing end-of-line hyphenation: "configu-" + "ration"
/// is joined, but "special-" + "purpose" keeps its hyphen when both halves are words of the
/// document and the joined form is not.
fn append(paragraph: &mut String, line: &str, vocabulary: &HashSet<String>) {
    if paragraph.is_empty() {
        paragraph.push_str(line);
        return;
    }
    let hyphenated = paragraph.ends_with('-')
        && paragraph[..paragraph.len() - 1]
            .chars()
            .last()
            .is_some_and(char::is_alphabetic)
        && line.chars().next().is_some_and(char::is_lowercase);
    if !hyphenated {
        paragraph.push(' ');
        paragraph.push_str(line);
        return;
    }
    let head = paragraph[..paragraph.len() - 1]
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    let tail = words(line).next().unwrap_or("");
    let known = |w: &str| vocabulary.contains(&fold(w));
    let compound = vocabulary.contains(&fold(&format!("{head}-{tail}")))
        || (known(head) && known(tail) && !known(&format!("{head}{tail}")));
    if !compound {
        paragraph.pop();
    }
    paragraph.push_str(line);
}

/// Every word of the document, folded, plus hyphenated compounds as written. A fragment left
/// by end-of-line hyphenation ("configu-") is not a word.
pub fn vocabulary(pages: &[Vec<Line>]) -> HashSet<String> {
    let mut vocab = HashSet::new();
    for line in pages.iter().flatten() {
        let folded = fold(&line.text);
        let trimmed = folded.trim_end();
        let cut = trimmed.ends_with('-');
        let tokens: Vec<&str> = trimmed
            .split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .collect();
        for (i, token) in tokens.iter().enumerate() {
            let last = i + 1 == tokens.len();
            let token = token.trim_matches('-');
            if token.is_empty() {
                continue;
            }
            let parts: Vec<&str> = token.split('-').collect();
            let whole = parts.len();
            for (j, part) in parts.iter().enumerate() {
                if !(cut && last && j + 1 == whole) {
                    vocab.insert(part.to_string());
                }
            }
            if !(cut && last) {
                vocab.insert(token.to_string());
            }
        }
    }
    vocab
}

/// Turns a page's lines into headings and paragraphs.
pub fn blocks(lines: &[Line], body: f32, vocabulary: &HashSet<String>) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut paragraph = String::new();
    let mut prev_heading = false;
    for line in lines {
        let text = clean_line(&line.text);
        if text.is_empty() {
            continue;
        }
        let heading = is_heading(line, &text, body);
        let starts_new = heading != prev_heading || line.gap_before > 1.6 || line.gap_before == 0.0;
        if starts_new && !paragraph.is_empty() {
            out.push(Block {
                text: std::mem::take(&mut paragraph),
                heading: prev_heading,
            });
        }
        append(&mut paragraph, &text, vocabulary);
        prev_heading = heading;
    }
    if !paragraph.is_empty() {
        out.push(Block {
            text: paragraph,
            heading: prev_heading,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, size: f32, gap: f32) -> Line {
        Line {
            text: text.into(),
            size,
            bold: false,
            y: 0.0,
            gap_before: gap,
            rotated: false,
        }
    }

    #[test]
    fn running_headers_and_page_numbers_are_removed() {
        let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"];
        let mut pages: Vec<Vec<Line>> = words
            .iter()
            .enumerate()
            .map(|(n, w)| {
                vec![
                    line("NIST SP 800-63B DIGITAL IDENTITY GUIDELINES", 8.0, 0.0),
                    line(&format!("Body text about {w} passwords."), 10.0, 2.0),
                    line(&format!("The {w} policy applies."), 10.0, 1.2),
                    line(&format!("See the {w} annex."), 10.0, 1.2),
                    line(&format!("{}", n + 1), 8.0, 3.0),
                ]
            })
            .collect();
        strip_running_lines(&mut pages);
        assert!(pages.iter().all(|p| p.len() == 3));
        assert!(pages[0][0].text.starts_with("Body text"));
    }

    #[test]
    fn hyphenation_uses_the_document_vocabulary() {
        let lines = vec![
            line("La configu-", 10.0, 0.0),
            line("ration du pare-", 10.0, 1.2),
            line("feu et du e-", 10.0, 1.2),
            line("mail, un special-", 10.0, 1.2),
            line("purpose laptop. Special and purpose are words.", 10.0, 1.2),
        ];
        let mut vocab = vocabulary(std::slice::from_ref(&lines));
        assert!(!vocab.contains("configu") && vocab.contains("ration"));
        vocab.insert("pare-feu".into());
        vocab.insert("e-mail".into());
        let blocks = blocks(&lines, 10.0, &vocab);
        assert_eq!(blocks.len(), 1);
        assert_eq!(
            blocks[0].text,
            "La configuration du pare-feu et du e-mail, un special-purpose laptop. Special and purpose are words."
        );
    }

    #[test]
    fn headings_are_larger_or_bold_titles() {
        let mut bold = line("3.2 Remote Access Methods", 10.0, 2.0);
        bold.bold = true;
        let lines = vec![
            line("Chapter 3", 16.0, 0.0),
            line("Some body text.", 10.0, 2.0),
            bold,
            line("More body text.", 10.0, 2.0),
        ];
        let blocks = blocks(&lines, 10.0, &HashSet::new());
        let kinds: Vec<bool> = blocks.iter().map(|b| b.heading).collect();
        assert_eq!(kinds, [true, false, true, false]);
    }

    #[test]
    fn table_of_contents_is_detected() {
        let toc: Vec<Line> = (1..=8)
            .map(|i| line(&format!("{i}. Section title ........ {}", i * 3), 10.0, 1.2))
            .collect();
        assert!(is_table_of_contents(&toc));
        assert!(!is_table_of_contents(&[line("Body text.", 10.0, 0.0)]));
        let plain: Vec<Line> = (1..=6)
            .map(|i| line(&format!("{i}. Chapter title {}", i * 2 + 3), 10.0, 1.2))
            .collect();
        assert!(is_table_of_contents(&plain));
        let table: Vec<Line> = [9, 3, 12, 1, 7, 2]
            .iter()
            .map(|n| line(&format!("Item count {n}"), 10.0, 1.2))
            .collect();
        assert!(!is_table_of_contents(&table));
    }
}
