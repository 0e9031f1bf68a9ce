//! Fuzzing of the PDF extractor for a bounded time: seed PDFs (the sample handbook, small
//! hostile files built in code, the corpus when present) under seeded random mutations must
//! extract or fail cleanly: no panic (not even one `extract` catches), and never past the time
//! bound of its budget.
//!
//! `RAG_FUZZ_SECS` sets how long to run (default 20 s, the CI setting);
//! `RAG_FUZZ_CASE=<seed>` replays the one case a failure printed.

#[path = "../../../tests/support/mod.rs"]
mod support;

mod hostile;

use std::panic::catch_unwind;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use lopdf::{Dictionary, Document, Object, Stream};
use rag_core::pdf::{Limits, PANIC_MESSAGE, PdfError, extract_with_limits};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};

const DEFAULT_SECS: u64 = 20;
/// Small budgets keep executions fast; the time bound adds what the budget does not cover
/// (lopdf loading the file, page structure).
const LIMITS: Limits = Limits {
    decoded_bytes: 32 << 20,
    text_bytes: 16 << 20,
    operations: 2_000_000,
    duration: Duration::from_secs(2),
};
const SLACK: Duration = Duration::from_secs(4);

/// Numbers that tend to break parsers.
const NUMBERS: [&str; 9] = [
    "0",
    "-1",
    "1",
    "2147483648",
    "9223372036854775807",
    "99999999999999999999",
    "-0.0",
    "1e39",
    "4294967295",
];
/// Keys whose numbers structure the file.
const NUMBER_KEYS: [&str; 10] = [
    "/Length",
    "/Size",
    "/W",
    "/Count",
    "/Prev",
    "/First",
    "/N",
    "xref",
    "startxref",
    "/Index",
];
/// Tokens to drop into a file: operators, keywords, names, delimiters.
const TOKENS: [&str; 24] = [
    " Do ",
    " Tf ",
    " Tj ",
    " TJ ",
    " ' ",
    " cm ",
    " q ",
    " Q ",
    " BT ",
    " ET ",
    " BI ",
    " ID ",
    " obj ",
    " endobj ",
    " stream\n",
    "\nendstream ",
    " R ",
    "<<",
    ">>",
    "[",
    "]",
    "(",
    ")",
    " /FlateDecode ",
];
const FILTERS: [&str; 6] = [
    "/FlateDecode",
    "/LZWDecode",
    "/ASCII85Decode",
    "/ASCIIHexDecode",
    "/RunLengthDecode",
    "/DCTDecode",
];

struct Rng(Xoshiro256PlusPlus);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n.max(1) as u64) as usize
    }

    fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len())]
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = vec![
        hostile::plain_text(&["Reset your password", "Open a ticket", "(escaped) text"]),
        hostile::decompression_bomb(4 << 20, 2),
        hostile::inline_font_switches(20),
        hostile::self_drawing_form(2, 2),
        hostile::runs_in_many_sizes(50),
    ];
    let sample = support::repo_root().join("data/pdf/procedures-support-it.pdf");
    seeds.push(std::fs::read(&sample).expect("the sample PDF"));
    let corpus = support::corpus_dir();
    for dir in ["en", "fr", "hard"] {
        if let Ok(entries) = std::fs::read_dir(corpus.join(dir)) {
            let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            seeds.extend(paths.iter().filter_map(|p| pdf_bytes(p)));
        }
    }
    // The same files with plain streams, so that mutations reach the content operators.
    let decompressed: Vec<Vec<u8>> = seeds.iter().filter_map(|s| decompressed(s)).collect();
    seeds.extend(decompressed);
    seeds
}

fn pdf_bytes(path: &Path) -> Option<Vec<u8>> {
    (path.extension()? == "pdf").then(|| std::fs::read(path).ok())?
}

fn decompressed(pdf: &[u8]) -> Option<Vec<u8>> {
    let mut doc = Document::load_mem(pdf).ok()?;
    doc.decompress();
    let mut out = Vec::new();
    doc.save_to(&mut out).ok()?;
    Some(out)
}

/// Compresses one stream once more, adding a FlateDecode layer in front of its filters.
fn wrap_in_flate(pdf: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    // A mutated file may make lopdf panic here; `extract` then meets it and reports it.
    let mut doc = catch_unwind(|| Document::load_mem(pdf)).ok()?.ok()?;
    let streams: Vec<_> = doc
        .objects
        .iter()
        .filter(|(_, o)| o.as_stream().is_ok())
        .map(|(id, _)| *id)
        .collect();
    let id = *streams.get(rng.below(streams.len()))?;
    let stream = doc.get_object_mut(id).ok()?.as_stream_mut().ok()?;
    let filters = match stream.dict.get(b"Filter") {
        Ok(Object::Array(a)) => a.clone(),
        Ok(name @ Object::Name(_)) => vec![name.clone()],
        _ => Vec::new(),
    };
    let mut layered = Stream::new(Dictionary::new(), stream.content.clone());
    layered.compress().ok()?;
    if layered.dict.get(b"Filter").is_err() {
        return None; // too small to compress
    }
    stream.set_content(layered.content);
    let mut chain = vec![Object::from("FlateDecode")];
    chain.extend(filters);
    stream.dict.set("Filter", chain);
    let mut out = Vec::new();
    doc.save_to(&mut out).ok()?;
    Some(out)
}

/// Byte range of one `N G obj … endobj`, if any.
fn object_span(data: &[u8], rng: &mut Rng) -> Option<(usize, usize)> {
    let starts: Vec<usize> = find_all(data, b" obj");
    let start = *starts.get(rng.below(starts.len()))?;
    let start = data[..start]
        .iter()
        .rposition(|&b| b == b'\n' || b == b'\r')
        .map_or(0, |p| p + 1);
    let end = find_all(&data[start..], b"endobj").first()? + start + 6;
    Some((start, end))
}

fn find_all(data: &[u8], needle: &[u8]) -> Vec<usize> {
    data.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// Replaces the number after one of `keys`.
fn corrupt_number(data: &mut Vec<u8>, rng: &mut Rng) {
    let key = rng.pick(&NUMBER_KEYS);
    let hits = find_all(data, key.as_bytes());
    let Some(&at) = hits.get(rng.below(hits.len())) else {
        return;
    };
    let mut start = at + key.len();
    while start < data.len() && data[start].is_ascii_whitespace() {
        start += 1;
    }
    let mut end = start;
    while end < data.len() && (data[end].is_ascii_digit() || data[end] == b'-') {
        end += 1;
    }
    let number = rng.pick(&NUMBERS).as_bytes().to_vec();
    data.splice(start..end, number);
}

fn mutate(data: &mut Vec<u8>, seeds: &[Vec<u8>], rng: &mut Rng) {
    let pos = |rng: &mut Rng, data: &Vec<u8>| rng.below(data.len() + 1);
    match rng.below(10) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                if !data.is_empty() {
                    let i = rng.below(data.len());
                    data[i] ^= 1 << rng.below(8);
                }
            }
        }
        1 => {
            let at = pos(rng, data);
            let bytes: Vec<u8> = (0..1 + rng.below(16))
                .map(|_| rng.0.next_u64() as u8)
                .collect();
            data.splice(at..at, bytes);
        }
        2 => {
            let at = pos(rng, data);
            let end = (at + 1 + rng.below(64)).min(data.len());
            data.drain(at..end);
        }
        3 => {
            let at = pos(rng, data);
            data.truncate(at);
        }
        4 => {
            let other = rng.pick(seeds);
            let from = rng.below(other.len());
            let chunk = other[from..(from + 1 + rng.below(4096)).min(other.len())].to_vec();
            let at = pos(rng, data);
            data.splice(at..at, chunk);
        }
        5 => {
            if let Some((start, end)) = object_span(data, rng) {
                let copy = data[start..end].to_vec();
                let at = pos(rng, data);
                data.splice(at..at, copy);
            }
        }
        6 => corrupt_number(data, rng),
        7 => {
            let hits = find_all(data, b"/Filter");
            if let Some(&at) = hits.get(rng.below(hits.len())) {
                let filter = rng.pick(&FILTERS).as_bytes().to_vec();
                data.splice(at + 7..at + 7, filter);
            }
        }
        8 => {
            if let Some(wrapped) = wrap_in_flate(data, rng) {
                *data = wrapped;
            }
        }
        _ => {
            let at = pos(rng, data);
            let token = rng.pick(&TOKENS).as_bytes().to_vec();
            data.splice(at..at, token);
        }
    }
}

/// Runs one case; the error says what went wrong.
fn case(seeds: &[Vec<u8>], seed: u64) -> Result<&'static str, String> {
    let mut rng = Rng(Xoshiro256PlusPlus::seed_from_u64(seed));
    let mut data = rng.pick(seeds).clone();
    for _ in 0..1 + rng.below(4) {
        mutate(&mut data, seeds, &mut rng);
    }
    let start = Instant::now();
    let result = extract_with_limits(&data, None, LIMITS);
    let elapsed = start.elapsed();
    let found = |what: String| {
        let path = std::env::temp_dir().join(format!("fuzz-pdf-{seed}.pdf"));
        let saved = std::fs::write(&path, &data).is_ok();
        Err(format!(
            "{what}; replay with RAG_FUZZ_CASE={seed} (input {}saved to {})",
            if saved { "" } else { "not " },
            path.display()
        ))
    };
    if elapsed > LIMITS.duration + SLACK {
        return found(format!("took {elapsed:?}"));
    }
    match result {
        Ok(_) => Ok("ok"),
        Err(PdfError::Unreadable(m)) if m == PANIC_MESSAGE => found("panicked".into()),
        Err(PdfError::OverBudget(_)) => Ok("over budget"),
        Err(_) => Ok("refused"),
    }
}

#[test]
fn extractor_survives_mutated_pdfs() {
    let seeds = seeds();
    if let Some(seed) = std::env::var("RAG_FUZZ_CASE")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        case(&seeds, seed).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    let secs = std::env::var("RAG_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SECS);
    let run = Instant::now();
    let base = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut outcomes = std::collections::BTreeMap::<&str, u64>::new();
    let mut executions = 0u64;
    while run.elapsed() < Duration::from_secs(secs) {
        let seed = base.wrapping_add(executions.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let outcome = case(&seeds, seed).unwrap_or_else(|e| panic!("fuzz finding: {e}"));
        *outcomes.entry(outcome).or_default() += 1;
        executions += 1;
    }
    let secs = run.elapsed().as_secs_f64();
    println!(
        "fuzz_pdf: {executions} executions from {} seeds in {secs:.0} s ({:.1}/s): {outcomes:?}",
        seeds.len(),
        executions as f64 / secs
    );
    assert!(executions > 0);
}
