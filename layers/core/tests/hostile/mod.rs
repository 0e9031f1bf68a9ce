//! Hostile PDFs built in code, after the security review of issue 11: each is a few kilobytes
//! on disk and costly to extract without per-document budgets.

#![allow(dead_code)]

use lopdf::{Dictionary, Document, Object, Stream, dictionary};

/// Zero bytes in the 1 GiB bomb of the review.
pub const BOMB_BYTES: u64 = 1 << 30;

/// Saves a document of `pages` pages that share `contents` and `resources`.
fn save(mut doc: Document, pages: usize, contents: Object, resources: Dictionary) -> Vec<u8> {
    let pages_id = doc.new_object_id();
    let kids: Vec<Object> = (0..pages)
        .map(|_| {
            doc.add_object(dictionary! {
                "Type" => "Page",
                "Parent" => pages_id,
                "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
                "Contents" => contents.clone(),
                "Resources" => resources.clone(),
            })
            .into()
        })
        .collect();
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Count" => pages as i64,
            "Kids" => kids,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save PDF");
    out
}

fn helvetica() -> Dictionary {
    dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" }
}

/// Appends bits least significant first, as deflate packs them.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    len: u32,
}

impl Bits {
    fn push(&mut self, value: u64, count: u32) {
        self.acc |= value << self.len;
        self.len += count;
        while self.len >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.len -= 8;
        }
    }

    /// Huffman codes are sent most significant bit first.
    fn code(&mut self, code: u64, count: u32) {
        let reversed = (0..count).fold(0, |r, i| r << 1 | (code >> i) & 1);
        self.push(reversed, count);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.len > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A zlib stream of about `n` zero bytes (rounded to `1 + 258·k`), written directly: one
/// fixed-Huffman block of a literal 0 then `k` copies of <length 258, distance 1>. 1 GiB takes
/// 6.8 MB, without ever holding the gigabyte.
pub fn zeros_zlib(n: u64) -> Vec<u8> {
    let copies = n.saturating_sub(1) / 258;
    let total = 1 + 258 * copies;
    let mut bits = Bits::default();
    bits.push(0x0178, 16); // zlib header 78 01, written as two bytes
    bits.push(0b011, 3); // final block, fixed codes
    bits.code(0x30, 8); // literal 0
    for _ in 0..copies {
        bits.code(0xC5, 8); // length code 285: 258 bytes
        bits.code(0, 5); // distance code 0: 1 byte back
    }
    bits.code(0, 7); // end of block
    let mut out = bits.finish();
    let adler = ((total % 65_521) << 16) | 1;
    out.extend_from_slice(&(adler as u32).to_be_bytes());
    out
}

/// A content stream of `n` zero bytes under two FlateDecode layers (the review's bomb: 1 GiB in a
/// few kilobytes).
pub fn nested_flate_zeros(n: u64) -> Stream {
    let mut stream = Stream::new(Dictionary::new(), zeros_zlib(n));
    stream.compress().expect("compress");
    stream.dict.set(
        "Filter",
        vec![Object::from("FlateDecode"), Object::from("FlateDecode")],
    );
    stream
}

/// One page whose /Contents lists the same bomb stream `listed` times.
pub fn decompression_bomb(n: u64, listed: usize) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let id = doc.add_object(nested_flate_zeros(n));
    let contents = vec![Object::Reference(id); listed];
    save(doc, 1, contents.into(), Dictionary::new())
}

/// An inline (direct) composite font whose widths cover every code four times (262 144
/// entries to build), selected `switches` times: each selection used to rebuild the font.
pub fn inline_font_switches(switches: usize) -> Vec<u8> {
    let widths: Vec<Object> = (0..4)
        .flat_map(|i| [0.into(), 65_535.into(), (500 + i).into()])
        .collect();
    let descendant = dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => "Hostile",
        "W" => widths,
    };
    let font = dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => "Hostile",
        "Encoding" => "UniGB-UCS2-H",
        "DescendantFonts" => vec![descendant.into()],
    };
    let mut content = String::from("BT 72 700 Td\n");
    for _ in 0..switches {
        content.push_str("/F1 12 Tf <006100620063> Tj\n");
    }
    content.push_str("ET\n");
    let mut doc = Document::with_version("1.5");
    let mut stream = Stream::new(Dictionary::new(), content.into_bytes());
    stream.compress().expect("compress");
    let id = doc.add_object(stream);
    let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
    save(doc, 1, id.into(), resources)
}

/// A form XObject that draws itself `fan_out` times (and shows a word), on `pages` pages.
pub fn self_drawing_form(fan_out: usize, pages: usize) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let font = doc.add_object(helvetica());
    let form_id = doc.new_object_id();
    let content = format!(
        "BT /F1 9 Tf 72 700 Td (loop) Tj ET {}",
        "/X0 Do ".repeat(fan_out)
    );
    let mut form = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Resources" => dictionary! {
                "XObject" => dictionary! { "X0" => form_id },
                "Font" => dictionary! { "F1" => font },
            },
        },
        content.into_bytes(),
    );
    form.compress().expect("compress");
    doc.objects.insert(form_id, Object::Stream(form));
    let page = doc.add_object(Stream::new(Dictionary::new(), b"/X0 Do".to_vec()));
    let resources = dictionary! { "XObject" => dictionary! { "X0" => form_id } };
    save(doc, pages, page.into(), resources)
}

/// `runs` text runs on one baseline, each in its own font size.
pub fn runs_in_many_sizes(runs: usize) -> Vec<u8> {
    let mut content = String::from("BT\n");
    for i in 0..runs {
        let size = 4.0 + i as f32 * 0.3;
        content.push_str(&format!("/F1 {size:.1} Tf 1 0 0 1 {i} 700 Tm (x) Tj\n"));
    }
    content.push_str("ET\n");
    let mut doc = Document::with_version("1.5");
    let font = doc.add_object(helvetica());
    let mut stream = Stream::new(Dictionary::new(), content.into_bytes());
    stream.compress().expect("compress");
    let id = doc.add_object(stream);
    let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
    save(doc, 1, id.into(), resources)
}

/// A plain, well-formed page of text.
pub fn plain_text(lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("BT /F1 11 Tf 72 720 Td 14 TL\n");
    for line in lines {
        content.push_str(&format!("({line}) Tj T*\n"));
    }
    content.push_str("ET\n");
    let mut doc = Document::with_version("1.5");
    let font = doc.add_object(helvetica());
    let id = doc.add_object(Stream::new(Dictionary::new(), content.into_bytes()));
    let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
    save(doc, 1, id.into(), resources)
}

/// A page tree whose inner node announces `i64::MAX` pages for its one page.
pub fn forged_page_count() -> Vec<u8> {
    let mut doc = Document::load_mem(&plain_text(&["Reset your password"])).expect("reload");
    let root = doc
        .catalog()
        .expect("catalog")
        .get(b"Pages")
        .expect("Pages");
    let root = root.as_reference().expect("reference");
    let kids = doc
        .get_dictionary(root)
        .expect("root")
        .get(b"Kids")
        .expect("Kids")
        .clone();
    let inner = doc.add_object(dictionary! {
        "Type" => "Pages",
        "Parent" => root,
        "Count" => i64::MAX,
        "Kids" => kids,
    });
    let node = doc.get_dictionary_mut(root).expect("root");
    node.set("Kids", vec![Object::Reference(inner)]);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save PDF");
    out
}
