//! Files the fuzz test (`fuzz_pdf.rs`) found to break the extractor, rebuilt by their cause.

mod hostile;

use rag_core::pdf::extract;

/// lopdf's `get_pages` reserves memory for the /Count a page-tree node announces: a forged
/// count panicked (capacity overflow) or aborted the process (allocation failure).
#[test]
fn forged_page_count_is_not_trusted() {
    let doc = extract(&hostile::forged_page_count(), None).expect("extracts");
    assert_eq!(doc.pages.len(), 1);
    assert_eq!(doc.pages[0].blocks[0].text, "Reset your password");
}
