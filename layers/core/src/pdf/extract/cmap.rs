//! ToUnicode CMap parsing: maps character codes (1-4 bytes) to Unicode text.
//!
//! Our own small parser (rather than lopdf's private one) because extraction needs the codespace
//! ranges to split a string into codes, and must tell "unmapped" apart from "mapped to U+FFFD".

use std::collections::HashMap;

/// A parsed ToUnicode CMap.
#[derive(Debug, Default, Clone)]
pub struct ToUnicode {
    /// (low, high, byte length) from `begincodespacerange`.
    codespace: Vec<(u32, u32, u8)>,
    /// Single mappings (code, byte length) → text.
    chars: HashMap<(u32, u8), String>,
    /// Range mappings: (low, high, byte length, target).
    ranges: Vec<(u32, u32, u8, RangeTarget)>,
}

#[derive(Debug, Clone)]
enum RangeTarget {
    /// Destination string whose last UTF-16 unit is incremented along the range.
    Incrementing(Vec<u16>),
    /// One destination per code.
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Hex(Vec<u8>),
    Int(i64),
    Keyword(String),
    ArrayStart,
    ArrayEnd,
    Other,
}

fn tokenize(data: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let c = data[i];
        match c {
            b'%' => {
                while i < data.len() && data[i] != b'\n' && data[i] != b'\r' {
                    i += 1;
                }
            }
            b'<' if data.get(i + 1) == Some(&b'<') => {
                out.push(Token::Other);
                i += 2;
            }
            b'>' if data.get(i + 1) == Some(&b'>') => {
                out.push(Token::Other);
                i += 2;
            }
            b'<' => {
                let start = i + 1;
                let mut end = start;
                while end < data.len() && data[end] != b'>' {
                    end += 1;
                }
                let digits: Vec<u8> = data[start..end]
                    .iter()
                    .copied()
                    .filter(u8::is_ascii_hexdigit)
                    .collect();
                out.push(Token::Hex(hex_bytes(&digits)));
                i = end + 1;
            }
            b'[' => {
                out.push(Token::ArrayStart);
                i += 1;
            }
            b']' => {
                out.push(Token::ArrayEnd);
                i += 1;
            }
            b'(' => {
                // Literal strings are rare in ToUnicode maps; skip them (with nesting).
                let mut depth = 0;
                while i < data.len() {
                    match data[i] {
                        b'\\' => i += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                out.push(Token::Other);
                i += 1;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                let start = i;
                while i < data.len()
                    && !data[i].is_ascii_whitespace()
                    && !b"<>[]()%/".contains(&data[i])
                {
                    i += 1;
                }
                if i == start {
                    // A name: skip the slash and read it as "other".
                    i += 1;
                    while i < data.len()
                        && !data[i].is_ascii_whitespace()
                        && !b"<>[]()%/".contains(&data[i])
                    {
                        i += 1;
                    }
                    out.push(Token::Other);
                    continue;
                }
                let word = String::from_utf8_lossy(&data[start..i]).into_owned();
                match word.parse::<i64>() {
                    Ok(n) => out.push(Token::Int(n)),
                    Err(_) => out.push(Token::Keyword(word)),
                }
            }
        }
    }
    out
}

fn hex_bytes(digits: &[u8]) -> Vec<u8> {
    let val = |d: u8| match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        _ => d - b'A' + 10,
    };
    digits
        .chunks(2)
        .map(|p| val(p[0]) << 4 | p.get(1).map_or(0, |&d| val(d)))
        .collect()
}

fn code_of(bytes: &[u8]) -> Option<(u32, u8)> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    let code = bytes.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b));
    Some((code, bytes.len() as u8))
}

fn utf16_units(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks(2)
        .map(|p| u16::from(p[0]) << 8 | u16::from(p.get(1).copied().unwrap_or(0)))
        .collect()
}

fn utf16_string(units: &[u16]) -> String {
    char::decode_utf16(units.iter().copied())
        .map(|r| r.unwrap_or('\u{FFFD}'))
        .collect()
}

impl ToUnicode {
    /// Parses a CMap stream; never fails, an unreadable map is simply empty.
    pub fn parse(data: &[u8]) -> Self {
        let tokens = tokenize(data);
        let mut map = ToUnicode::default();
        let mut i = 0;
        while i < tokens.len() {
            let Token::Keyword(kw) = &tokens[i] else {
                i += 1;
                continue;
            };
            match kw.as_str() {
                "begincodespacerange" => {
                    i += 1;
                    while let (Some(Token::Hex(lo)), Some(Token::Hex(hi))) =
                        (tokens.get(i), tokens.get(i + 1))
                    {
                        if let (Some((lo, len)), Some((hi, _))) = (code_of(lo), code_of(hi)) {
                            map.codespace.push((lo, hi, len));
                        }
                        i += 2;
                    }
                }
                "beginbfchar" => {
                    i += 1;
                    while let (Some(Token::Hex(src)), Some(Token::Hex(dst))) =
                        (tokens.get(i), tokens.get(i + 1))
                    {
                        if let Some(code) = code_of(src) {
                            map.chars.insert(code, utf16_string(&utf16_units(dst)));
                        }
                        i += 2;
                    }
                }
                "beginbfrange" => {
                    i += 1;
                    while let (Some(Token::Hex(lo)), Some(Token::Hex(hi))) =
                        (tokens.get(i), tokens.get(i + 1))
                    {
                        let bounds = code_of(lo).zip(code_of(hi));
                        i += 2;
                        let target = match tokens.get(i) {
                            Some(Token::Hex(dst)) => {
                                i += 1;
                                Some(RangeTarget::Incrementing(utf16_units(dst)))
                            }
                            Some(Token::ArrayStart) => {
                                i += 1;
                                let mut list = Vec::new();
                                while let Some(Token::Hex(dst)) = tokens.get(i) {
                                    list.push(utf16_string(&utf16_units(dst)));
                                    i += 1;
                                }
                                if tokens.get(i) == Some(&Token::ArrayEnd) {
                                    i += 1;
                                }
                                Some(RangeTarget::List(list))
                            }
                            _ => None,
                        };
                        if let (Some(((lo, len), (hi, _))), Some(target)) = (bounds, target)
                            && lo <= hi
                        {
                            map.ranges.push((lo, hi, len, target));
                        }
                    }
                }
                _ => i += 1,
            }
        }
        map
    }

    /// True when the map has no mapping at all (useless for extraction).
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty() && self.ranges.is_empty()
    }

    /// The byte length of the next code in `bytes`, from the codespace ranges;
    /// `default_len` when the map declares none that match.
    pub fn code_len(&self, bytes: &[u8], default_len: u8) -> u8 {
        for &(lo, hi, len) in &self.codespace {
            let n = usize::from(len);
            if bytes.len() >= n
                && let Some((code, _)) = code_of(&bytes[..n])
                && (lo..=hi).contains(&code)
            {
                return len;
            }
        }
        default_len
    }

    /// The text for one code, or `None` when the map does not cover it.
    pub fn lookup(&self, code: u32, len: u8) -> Option<String> {
        if let Some(s) = self.chars.get(&(code, len)) {
            return Some(s.clone());
        }
        for (lo, hi, rlen, target) in &self.ranges {
            if *rlen != len || code < *lo || code > *hi {
                continue;
            }
            let offset = code - lo;
            return match target {
                RangeTarget::Incrementing(units) => {
                    let mut units = units.clone();
                    if let Some(last) = units.last_mut() {
                        *last = last.wrapping_add(offset as u16);
                    }
                    Some(utf16_string(&units))
                }
                RangeTarget::List(list) => list.get(offset as usize).cloned(),
            };
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar <0003> <0020> <0011> <00E9> endbfchar
2 beginbfrange <0024> <0026> <0041> <0050> <0051> [<0066006C> <FB01>] endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end";

    #[test]
    fn parses_chars_ranges_and_arrays() {
        let map = ToUnicode::parse(SAMPLE);
        assert_eq!(map.lookup(0x0003, 2).as_deref(), Some(" "));
        assert_eq!(map.lookup(0x0011, 2).as_deref(), Some("é"));
        assert_eq!(map.lookup(0x0025, 2).as_deref(), Some("B"));
        assert_eq!(map.lookup(0x0050, 2).as_deref(), Some("fl"));
        assert_eq!(map.lookup(0x0051, 2).as_deref(), Some("\u{FB01}"));
        assert_eq!(map.lookup(0x0099, 2), None);
        assert_eq!(map.code_len(&[0x00, 0x11], 1), 2);
    }

    #[test]
    fn garbage_gives_an_empty_map() {
        let map = ToUnicode::parse(b"\x00\xff<<>> [ ( unterminated");
        assert!(map.is_empty());
    }
}
