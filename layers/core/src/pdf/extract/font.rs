//! Font decoding: character codes → Unicode text and glyph advances.
//!
//! A glyph whose code the font cannot map to Unicode (no ToUnicode, unknown glyph names,
//! Identity-H without a map) is reported as `text: None`, so the page can be flagged instead of
//! indexing junk.

use std::collections::HashMap;
use std::sync::OnceLock;

use lopdf::{Dictionary, Document, Object};

use super::budget::{Budget, Exceeded};
use super::cmap::ToUnicode;

/// One decoded glyph.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    /// The Unicode text of the glyph, `None` when the font gives no usable mapping.
    pub text: Option<String>,
    /// Advance width in text space units (already divided by 1000 or scaled by FontMatrix).
    pub width: f32,
    /// Single-byte code 32, to which word spacing (Tw) applies.
    pub is_space_code: bool,
}

#[derive(Debug)]
enum Kind {
    Simple {
        table: Vec<Option<String>>,
        widths: Vec<f32>,
    },
    Composite {
        to_unicode: Option<ToUnicode>,
        /// Codes are UTF-16BE (UCS2/UTF16 predefined CMaps).
        utf16: bool,
        widths: HashMap<u32, f32>,
        default_width: f32,
    },
}

/// A font resource ready to decode strings.
#[derive(Debug)]
pub struct Font {
    kind: Kind,
    /// Glyph space → text space factor (1/1000, or FontMatrix for Type3 fonts).
    scale: f32,
    pub bold: bool,
    pub vertical: bool,
    /// Pictographic fonts (Symbol, Dingbats): glyphs are dropped without counting as junk.
    pub symbolic: bool,
}

fn resolve<'a>(doc: &'a Document, obj: &'a Object) -> &'a Object {
    doc.dereference(obj).map(|(_, o)| o).unwrap_or(obj)
}

fn get<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    dict.get(key).ok().map(|o| resolve(doc, o))
}

fn number(obj: &Object) -> Option<f32> {
    match obj {
        Object::Integer(i) => Some(*i as f32),
        Object::Real(r) => Some(*r),
        _ => None,
    }
}

fn name<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    get(doc, dict, key).and_then(|o| o.as_name().ok())
}

/// 256-entry tables of the standard encodings, derived once from lopdf's tables.
fn base_table(encoding: &[u8]) -> &'static [Option<String>] {
    static TABLES: OnceLock<HashMap<&'static [u8], Vec<Option<String>>>> = OnceLock::new();
    const NAMES: [&[u8]; 4] = [
        b"StandardEncoding",
        b"WinAnsiEncoding",
        b"MacRomanEncoding",
        b"MacExpertEncoding",
    ];
    let tables = TABLES.get_or_init(|| {
        let doc = Document::new();
        NAMES
            .iter()
            .map(|&n| {
                let mut font = Dictionary::new();
                font.set("Type", Object::Name(b"Font".to_vec()));
                font.set("Encoding", Object::Name(n.to_vec()));
                let table = match font.get_font_encoding(&doc) {
                    Ok(enc) => (0u8..=255)
                        .map(|b| enc.bytes_to_string(&[b]).ok().filter(|s| !s.is_empty()))
                        .collect(),
                    Err(_) => vec![None; 256],
                };
                (n, table)
            })
            .collect()
    });
    tables
        .get(encoding)
        .or_else(|| tables.get(&b"StandardEncoding"[..]))
        .map_or(&[], Vec::as_slice)
}

/// Unicode text for a glyph name (Adobe Glyph List via lopdf, plus the uniXXXX/uXXXX forms and
/// ligature names like f_f_i). `None` for names that carry no meaning (g12, cid42, ...).
fn glyph_name_text(name: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(name).ok()?;
    let base = name.split('.').next().unwrap_or(name);
    if base.is_empty() {
        return None;
    }
    if base.contains('_') {
        return base
            .split('_')
            .map(|part| glyph_name_text(part.as_bytes()))
            .collect();
    }
    if let Some(hex) = base.strip_prefix("uni")
        && hex.len() >= 4
        && hex.len() % 4 == 0
        && hex.chars().all(|c| c.is_ascii_hexdigit())
    {
        let units: Option<Vec<u16>> = (0..hex.len() / 4)
            .map(|i| u16::from_str_radix(&hex[i * 4..i * 4 + 4], 16).ok())
            .collect();
        return char::decode_utf16(units?)
            .collect::<Result<String, _>>()
            .ok();
    }
    if let Some(hex) = base.strip_prefix('u')
        && (4..=6).contains(&hex.len())
        && hex.chars().all(|c| c.is_ascii_hexdigit())
    {
        return u32::from_str_radix(hex, 16)
            .ok()
            .and_then(char::from_u32)
            .map(String::from);
    }
    agl_lookup(base.as_bytes())
}

fn agl_lookup(name: &[u8]) -> Option<String> {
    let doc = Document::new();
    let mut enc = Dictionary::new();
    enc.set(
        "Differences",
        Object::Array(vec![Object::Integer(0), Object::Name(name.to_vec())]),
    );
    let mut font = Dictionary::new();
    font.set("Type", Object::Name(b"Font".to_vec()));
    font.set("Encoding", Object::Dictionary(enc));
    // lopdf falls back to StandardEncoding (where code 0 is undefined) for unknown names.
    let enc = font.get_font_encoding(&doc).ok()?;
    enc.bytes_to_string(&[0]).ok().filter(|s| !s.is_empty())
}

fn is_bold(doc: &Document, font: &Dictionary, descriptor: Option<&Dictionary>) -> bool {
    let base = name(doc, font, b"BaseFont").unwrap_or_default();
    let base = String::from_utf8_lossy(base).to_ascii_lowercase();
    if ["bold", "black", "heavy", "semibold", "demi"]
        .iter()
        .any(|w| base.contains(w))
    {
        return true;
    }
    descriptor.is_some_and(|d| {
        get(doc, d, b"FontWeight")
            .and_then(number)
            .is_some_and(|w| w >= 600.0)
            || get(doc, d, b"Flags")
                .and_then(number)
                .is_some_and(|f| (f as i64) & (1 << 18) != 0)
    })
}

fn descriptor<'a>(doc: &'a Document, font: &'a Dictionary) -> Option<&'a Dictionary> {
    get(doc, font, b"FontDescriptor").and_then(|o| o.as_dict().ok())
}

impl Font {
    /// Builds a decoder from a font dictionary. Fails only on an exceeded budget: unknown parts
    /// degrade to "unmappable" glyphs rather than errors.
    pub fn load(doc: &Document, dict: &Dictionary, budget: &mut Budget) -> Result<Font, Exceeded> {
        let subtype = name(doc, dict, b"Subtype").unwrap_or_default();
        if subtype == b"Type0" {
            return Self::load_composite(doc, dict, budget);
        }
        let base = name(doc, dict, b"BaseFont").unwrap_or_default();
        let base_str = String::from_utf8_lossy(base);
        let symbolic = base_str.contains("Symbol") || base_str.contains("Dingbats");

        let scale = if subtype == b"Type3" {
            get(doc, dict, b"FontMatrix")
                .and_then(|o| o.as_array().ok())
                .and_then(|a| a.first().map(|o| resolve(doc, o)))
                .and_then(number)
                .unwrap_or(0.001)
        } else {
            0.001
        };

        let mut table = vec![None; 256];
        let encoding = get(doc, dict, b"Encoding");
        let (base_name, differences) = match encoding {
            Some(Object::Name(n)) => (n.as_slice(), None),
            Some(Object::Dictionary(d)) => (
                name(doc, d, b"BaseEncoding").unwrap_or(b"StandardEncoding"),
                get(doc, d, b"Differences").and_then(|o| o.as_array().ok()),
            ),
            _ if subtype == b"TrueType" => (&b"WinAnsiEncoding"[..], None),
            _ => (&b"StandardEncoding"[..], None),
        };
        if !symbolic {
            for (slot, text) in table.iter_mut().zip(base_table(base_name)) {
                slot.clone_from(text);
            }
        }
        if let Some(diffs) = differences {
            let mut code = 0usize;
            for item in diffs {
                match resolve(doc, item) {
                    Object::Integer(c) => code = (*c).clamp(0, 255) as usize,
                    Object::Name(n) => {
                        if code < 256 {
                            table[code] = glyph_name_text(n);
                        }
                        code += 1;
                    }
                    _ => {}
                }
            }
        }
        if let Some(map) = Self::to_unicode(doc, dict, budget)? {
            for (code, slot) in table.iter_mut().enumerate() {
                if let Some(text) = map.lookup(code as u32, 1) {
                    *slot = Some(text);
                }
            }
        }

        let descriptor = descriptor(doc, dict);
        let missing = descriptor
            .and_then(|d| get(doc, d, b"MissingWidth"))
            .and_then(number)
            .unwrap_or(0.0);
        let mut widths = vec![if missing > 0.0 { missing } else { 500.0 }; 256];
        let first = get(doc, dict, b"FirstChar")
            .and_then(number)
            .unwrap_or(0.0)
            .max(0.0) as usize;
        if let Some(list) = get(doc, dict, b"Widths").and_then(|o| o.as_array().ok()) {
            for (i, w) in list.iter().enumerate() {
                if let (Some(slot), Some(w)) = (widths.get_mut(first + i), number(resolve(doc, w)))
                {
                    *slot = w;
                }
            }
        } else if subtype != b"Type3" {
            // Standard 14 fonts without /Widths: a space is about a quarter em.
            widths[32] = 250.0;
        }
        Ok(Font {
            kind: Kind::Simple { table, widths },
            scale,
            bold: is_bold(doc, dict, descriptor),
            vertical: false,
            symbolic,
        })
    }

    fn to_unicode(
        doc: &Document,
        dict: &Dictionary,
        budget: &mut Budget,
    ) -> Result<Option<ToUnicode>, Exceeded> {
        let Some(stream) = get(doc, dict, b"ToUnicode").and_then(|o| o.as_stream().ok()) else {
            return Ok(None);
        };
        let map = ToUnicode::parse(&budget.decode_or_raw(stream)?);
        Ok((!map.is_empty()).then_some(map))
    }

    fn load_composite(
        doc: &Document,
        dict: &Dictionary,
        budget: &mut Budget,
    ) -> Result<Font, Exceeded> {
        let encoding = name(doc, dict, b"Encoding").unwrap_or_default();
        let vertical = encoding.ends_with(b"-V");
        let utf16 = {
            let e = String::from_utf8_lossy(encoding);
            e.contains("UCS2") || e.contains("UTF16")
        };
        let descendant = get(doc, dict, b"DescendantFonts")
            .and_then(|o| o.as_array().ok())
            .and_then(|a| a.first())
            .map(|o| resolve(doc, o))
            .and_then(|o| o.as_dict().ok());
        let mut widths = HashMap::new();
        let mut default_width = 1000.0;
        let mut bold = is_bold(doc, dict, None);
        if let Some(cid) = descendant {
            default_width = get(doc, cid, b"DW").and_then(number).unwrap_or(1000.0);
            bold |= is_bold(doc, cid, descriptor(doc, cid));
            if let Some(w) = get(doc, cid, b"W").and_then(|o| o.as_array().ok()) {
                parse_cid_widths(doc, w, &mut widths);
            }
        }
        Ok(Font {
            kind: Kind::Composite {
                to_unicode: Self::to_unicode(doc, dict, budget)?,
                utf16,
                widths,
                default_width,
            },
            scale: 0.001,
            bold,
            vertical,
            symbolic: false,
        })
    }

    /// Splits a shown string into glyphs.
    pub fn decode(&self, bytes: &[u8]) -> Vec<Glyph> {
        match &self.kind {
            Kind::Simple { table, widths } => bytes
                .iter()
                .map(|&b| Glyph {
                    text: table[usize::from(b)].clone(),
                    width: widths[usize::from(b)] * self.scale,
                    is_space_code: b == 32,
                })
                .collect(),
            Kind::Composite {
                to_unicode,
                utf16,
                widths,
                default_width,
            } => {
                let mut out = Vec::with_capacity(bytes.len() / 2);
                let mut i = 0;
                while i < bytes.len() {
                    let len = to_unicode
                        .as_ref()
                        .map_or(2, |m| m.code_len(&bytes[i..], 2))
                        .min((bytes.len() - i) as u8)
                        .max(1);
                    let code = bytes[i..i + usize::from(len)]
                        .iter()
                        .fold(0u32, |acc, &b| acc << 8 | u32::from(b));
                    i += usize::from(len);
                    let text = match to_unicode {
                        Some(map) => map.lookup(code, len),
                        None if *utf16 => char::from_u32(code).map(String::from),
                        None => None,
                    };
                    let width = widths.get(&code).copied().unwrap_or(*default_width);
                    out.push(Glyph {
                        text,
                        width: width * self.scale,
                        is_space_code: false,
                    });
                }
                out
            }
        }
    }
}

/// Parses a CIDFont /W array: `c [w1 w2 ...]` and `c_first c_last w` forms.
fn parse_cid_widths(doc: &Document, w: &[Object], out: &mut HashMap<u32, f32>) {
    let items: Vec<&Object> = w.iter().map(|o| resolve(doc, o)).collect();
    let mut i = 0;
    while i < items.len() {
        let Some(first) = number(items[i]) else {
            i += 1;
            continue;
        };
        let first = first.max(0.0) as u32;
        match items.get(i + 1) {
            Some(Object::Array(list)) => {
                for (k, v) in list.iter().enumerate() {
                    if let Some(v) = number(resolve(doc, v)) {
                        out.insert(first + k as u32, v);
                    }
                }
                i += 2;
            }
            Some(last) => {
                let (Some(last), Some(v)) =
                    (number(last), items.get(i + 2).and_then(|o| number(o)))
                else {
                    break;
                };
                // Bound the range so a hostile /W cannot allocate without limit.
                let last = (last.max(0.0) as u32).min(first.saturating_add(65_536));
                for c in first..=last {
                    out.insert(c, v);
                }
                i += 3;
            }
            None => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::extract::budget::Limits;

    fn load(font: &Dictionary) -> Font {
        Font::load(&Document::new(), font, &mut Budget::new(Limits::default())).expect("budget")
    }

    #[test]
    fn glyph_names() {
        assert_eq!(glyph_name_text(b"eacute").as_deref(), Some("é"));
        assert_eq!(glyph_name_text(b"uni00E9").as_deref(), Some("é"));
        assert_eq!(glyph_name_text(b"u1F600").as_deref(), Some("😀"));
        assert_eq!(glyph_name_text(b"f_f_i").as_deref(), Some("ffi"));
        assert_eq!(glyph_name_text(b"a.sc").as_deref(), Some("a"));
        assert_eq!(glyph_name_text(b"g123"), None);
    }

    #[test]
    fn winansi_simple_font() {
        let mut font = Dictionary::new();
        font.set("Type", Object::Name(b"Font".to_vec()));
        font.set("Subtype", Object::Name(b"Type1".to_vec()));
        font.set("BaseFont", Object::Name(b"Helvetica-Bold".to_vec()));
        font.set("Encoding", Object::Name(b"WinAnsiEncoding".to_vec()));
        let font = load(&font);
        let text: String = font
            .decode(b"caf\xe9 \x9c")
            .into_iter()
            .filter_map(|g| g.text)
            .collect();
        assert_eq!(text, "café œ");
        assert!(font.bold);
    }

    #[test]
    fn identity_h_without_to_unicode_is_unmappable() {
        let mut font = Dictionary::new();
        font.set("Type", Object::Name(b"Font".to_vec()));
        font.set("Subtype", Object::Name(b"Type0".to_vec()));
        font.set("Encoding", Object::Name(b"Identity-H".to_vec()));
        let font = load(&font);
        let glyphs = font.decode(&[0, 5, 0, 6]);
        assert_eq!(glyphs.len(), 2);
        assert!(glyphs.iter().all(|g| g.text.is_none()));
        assert!((glyphs[0].width - 1.0).abs() < 1e-6);
    }
}
