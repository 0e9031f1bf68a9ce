//! Hostile PDFs (issue 11) end within their budget: bombs fail with the budget they exceeded,
//! costly-but-bounded files extract. Time bounds are generous (a loaded two-core machine, debug
//! build) yet far below what the same files cost without budgets.

mod hostile;

use std::time::{Duration, Instant};

use rag_core::pdf::{Exceeded, Extracted, Limits, PdfError, extract, extract_with_limits};

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn text(doc: &Extracted) -> String {
    doc.pages
        .iter()
        .flat_map(|p| &p.blocks)
        .map(|b| b.text.as_str())
        .collect()
}

#[test]
fn decompression_bomb_fails_on_the_decoded_bytes_budget() {
    let limit = Limits::default().decoded_bytes;
    for listed in [1, 3] {
        let pdf = hostile::decompression_bomb(hostile::BOMB_BYTES, listed);
        assert!(pdf.len() < 64 * 1024, "{} bytes", pdf.len());
        let (result, elapsed) = timed(|| extract(&pdf, None));
        let err = result.expect_err("the bomb must fail");
        assert_eq!(err, PdfError::OverBudget(Exceeded::DecodedBytes(limit)));
        assert!(err.to_string().contains("decoded streams"), "{err}");
        assert!(
            elapsed < Duration::from_secs(10),
            "listed {listed}×: {elapsed:?}"
        );
    }
}

#[test]
fn decoded_bytes_add_up_across_streams_of_a_page() {
    let limits = Limits {
        decoded_bytes: 1 << 20,
        ..Limits::default()
    };
    let pdf = hostile::decompression_bomb(400 << 10, 3);
    assert!(extract_with_limits(&hostile::decompression_bomb(400 << 10, 2), None, limits).is_ok());
    assert_eq!(
        extract_with_limits(&pdf, None, limits).expect_err("three streams"),
        PdfError::OverBudget(Exceeded::DecodedBytes(1 << 20))
    );
}

/// 800 selections of an inline font took 6.4 s: the font was rebuilt each time.
#[test]
fn inline_font_is_built_once() {
    let pdf = hostile::inline_font_switches(800);
    let (result, elapsed) = timed(|| extract(&pdf, None));
    let doc = result.expect("extracts");
    assert!(text(&doc).contains("abc"));
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

/// A form drawing itself four times, eight levels deep, on 40 pages: 7.9 M operators.
#[test]
fn self_drawing_form_fails_on_the_document_operations_budget() {
    let pdf = hostile::self_drawing_form(4, 40);
    let limits = Limits {
        operations: 1_000_000,
        ..Limits::default()
    };
    let (result, elapsed) = timed(|| extract_with_limits(&pdf, None, limits));
    assert_eq!(
        result.expect_err("over budget"),
        PdfError::OverBudget(Exceeded::Operations(1_000_000))
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn self_drawing_form_on_one_page_is_bounded_work() {
    let (result, elapsed) = timed(|| extract(&hostile::self_drawing_form(4, 1), None));
    assert!(text(&result.expect("extracts")).contains("loop"));
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

/// Each drawing of the form shows its word again: 1.1 MB of text runs from 69 decoded bytes.
#[test]
fn text_multiplied_by_forms_fails_on_the_text_budget() {
    let limits = Limits {
        text_bytes: 1 << 20,
        ..Limits::default()
    };
    let result = extract_with_limits(&hostile::self_drawing_form(4, 1), None, limits);
    assert_eq!(
        result.expect_err("over budget"),
        PdfError::OverBudget(Exceeded::TextBytes(1 << 20))
    );
}

#[test]
fn time_budget_stops_the_interpreter() {
    let pdf = hostile::self_drawing_form(4, 40);
    let limits = Limits {
        duration: Duration::from_millis(100),
        ..Limits::default()
    };
    let (result, elapsed) = timed(|| extract_with_limits(&pdf, None, limits));
    assert_eq!(
        result.expect_err("over time"),
        PdfError::OverBudget(Exceeded::Time(limits.duration))
    );
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

/// 40 000 runs in as many sizes: line layout was quadratic in the sizes of a line.
#[test]
fn runs_in_many_sizes_lay_out_fast() {
    let pdf = hostile::runs_in_many_sizes(40_000);
    let (result, elapsed) = timed(|| extract(&pdf, None));
    assert!(result.is_ok());
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn ordinary_pdf_reports_what_it_used() {
    let doc = extract(
        &hostile::plain_text(&["Reset your password", "then log in"]),
        None,
    )
    .expect("extracts");
    assert!(text(&doc).contains("Reset your password"));
    assert_eq!(doc.usage.operations, 9);
    assert!(doc.usage.decoded_bytes > 50);
    assert!(doc.usage.text_bytes > "Reset your passwordthen log in".len());
}
