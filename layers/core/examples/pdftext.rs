//! Prints the extracted blocks of a PDF: `cargo run --example pdftext -- FILE [PASSWORD]`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).expect("read");
    match rag_core::pdf::extract(&bytes, args.get(2).map(String::as_str)) {
        Ok(doc) => {
            println!("encrypted={} repaired={}", doc.encrypted, doc.repaired);
            eprintln!("{:?}", doc.usage);
            for p in doc.pages {
                println!(
                    "=== page {} {:?} dropped={}",
                    p.number,
                    p.skipped.map(|s| s.to_string()),
                    p.dropped_glyphs
                );
                for b in p.blocks {
                    println!("{}{}", if b.heading { "# " } else { "" }, b.text);
                }
            }
        }
        Err(e) => println!("error: {e}"),
    }
}
