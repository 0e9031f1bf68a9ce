//! Extraction over the real corpus: every PDF yields clean text or a stated reason, never a
//! panic, and the documented hard cases behave as expected.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use rag_core::pdf::{Extracted, PdfError, SkipReason, extract};
use rag_core::text::junk_ratio;

fn pdfs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    files.sort();
    files
}

fn read(dir: &str, name: &str) -> Option<Vec<u8>> {
    let path = support::corpus_dir().join(dir).join(name);
    support::available(&path, "corpus PDF").then(|| std::fs::read(&path).expect("read PDF"))
}

fn page_text(doc: &Extracted, page: usize) -> String {
    doc.pages[page]
        .blocks
        .iter()
        .map(|b| b.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn text(doc: &Extracted) -> String {
    (0..doc.pages.len())
        .map(|i| page_text(doc, i))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Indexed text must be free of replacement characters, controls and junk words.
fn assert_clean(name: &str, doc: &Extracted) {
    for (i, page) in doc.pages.iter().enumerate() {
        let t = page_text(doc, i);
        assert!(
            !t.chars().any(|c| c == '\u{FFFD}' || c.is_control()),
            "{name} p. {}: replacement or control characters",
            page.number
        );
        assert!(
            junk_ratio(&t) <= 0.3,
            "{name} p. {}: junk text indexed: {}",
            page.number,
            t.chars().take(200).collect::<String>()
        );
    }
}

#[test]
fn every_corpus_pdf_extracts_or_says_why() {
    let root = support::corpus_dir();
    if !support::available(&root, "../shared/corpus") {
        return;
    }
    let mut checked = 0;
    for dir in ["en", "fr", "hard"] {
        for path in pdfs(&root.join(dir)) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&path).expect("read");
            match extract(&bytes, None) {
                Ok(doc) => {
                    assert!(!doc.pages.is_empty(), "{name}: no pages");
                    assert_clean(&name, &doc);
                    for page in &doc.pages {
                        assert!(
                            page.blocks.is_empty() == page.skipped.is_some(),
                            "{name} p. {}: a page must have text or a reason, not both",
                            page.number
                        );
                    }
                }
                Err(e) => assert!(!e.to_string().is_empty(), "{name}: error without a message"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 28, "only {checked} PDFs found");
}

#[test]
fn real_documents_give_clean_text_on_known_pages() {
    let cases = [
        (
            "en",
            "NIST_NIST.SP.800-63b.pdf",
            23,
            "Memorized secrets SHALL be at least 8 characters in length",
        ),
        ("en", "NIST_SP800-61rev2.pdf", 32, "jump kit"),
        (
            "fr",
            "CASES_guide_securite_informatique_fr.pdf",
            20,
            "Les solutions offertes par votre fournisseur d'accès à Internet",
        ),
        (
            "fr",
            "CASES_Monarc2016FR-web.pdf",
            5,
            "Risque = Menace x Vulnérabilité x Impact",
        ),
    ];
    for (dir, name, page, needle) in cases {
        let Some(bytes) = read(dir, name) else { return };
        let doc = extract(&bytes, None).expect("extract");
        assert_clean(name, &doc);
        let t = page_text(&doc, page - 1);
        assert!(
            t.contains(needle),
            "{name} p. {page} lacks {needle:?}: {}",
            t.chars().take(300).collect::<String>()
        );
    }
}

#[test]
fn running_headers_and_tables_of_contents_are_not_indexed() {
    let Some(bytes) = read("en", "NIST_NIST.SP.800-63b.pdf") else {
        return;
    };
    let doc = extract(&bytes, None).expect("extract");
    // The vertical banner repeated in the margin of every body page.
    for page in 10..doc.pages.len() {
        assert!(
            !page_text(&doc, page).contains("This publication is available free of charge"),
            "margin banner indexed on page {}",
            page + 1
        );
    }
    assert_eq!(doc.pages[6].skipped, Some(SkipReason::TableOfContents));
}

#[test]
fn encrypted_files_open_with_the_empty_or_given_password() {
    let Some(aes128) = read("hard", "lopdf__assets_encrypted.pdf") else {
        return;
    };
    let doc = extract(&aes128, None).expect("AES-128, empty user password");
    assert!(doc.encrypted && text(&doc).contains("USCIS"));

    let cases = [
        (
            "pypdf__resources_crazyones-encrypted-256.pdf",
            "password",
            "The Crazy Ones",
        ),
        (
            "pdfminer.six__samples_encryption_aes-256-r6.pdf",
            "usersecret",
            "Hello World",
        ),
        (
            "pypdf__resources_libreoffice-writer-password.pdf",
            "openpassword",
            "Lorem ipsum",
        ),
    ];
    for (name, password, needle) in cases {
        let Some(bytes) = read("hard", name) else {
            return;
        };
        assert_eq!(
            extract(&bytes, None).err(),
            Some(PdfError::PasswordRequired),
            "{name}"
        );
        assert_eq!(
            extract(&bytes, Some("wrong")).err(),
            Some(PdfError::WrongPassword),
            "{name}"
        );
        let doc = extract(&bytes, Some(password)).expect(name);
        assert!(text(&doc).contains(needle), "{name}");
    }
}

#[test]
fn fonts_without_unicode_maps_are_flagged_not_indexed() {
    let Some(bytes) = read(
        "hard",
        "pdfminer.six__samples_contrib_issue-791-non-unicode-cmap.pdf",
    ) else {
        return;
    };
    let doc = extract(&bytes, None).expect("extract");
    assert!(matches!(
        doc.pages[0].skipped,
        Some(SkipReason::UnmappableFont { .. })
    ));
    assert!(doc.pages[0].blocks.is_empty());
}

#[test]
fn damaged_files_are_repaired() {
    let cases = [
        ("pypdf__resources_issue-297.pdf", "test example"),
        (
            "pdfminer.six__samples_zen_of_python_corrupted.pdf",
            "Beautiful is better than ugly.",
        ),
        ("lopdf__assets_Incremental.pdf", "Hello World!"),
        ("lopdf__assets_unicode.pdf", "😀"),
    ];
    for (name, needle) in cases {
        let Some(bytes) = read("hard", name) else {
            return;
        };
        let doc = extract(&bytes, None).expect(name);
        assert!(text(&doc).contains(needle), "{name}: {}", text(&doc));
    }
}

#[test]
fn french_text_keeps_accents_and_joins_hyphenated_words() {
    let Some(bytes) = read("fr", "CASES_Monarc2016FR-web.pdf") else {
        return;
    };
    let doc = extract(&bytes, None).expect("extract");
    let all = text(&doc);
    assert!(all.contains("sécurité") && all.contains("vulnérabilités"));
    // A word split at a line end ("informa- tion") must come back whole.
    let broken = all
        .split_whitespace()
        .filter(|w| {
            w.len() > 3 && w.ends_with('-') && w[..w.len() - 1].chars().all(char::is_lowercase)
        })
        .count();
    assert!(broken <= 2, "{broken} words still hyphenated at line ends");
}
