//! Content stream interpretation: text operators → positioned text runs.

use std::rc::Rc;

use lopdf::content::Content;
use lopdf::{Dictionary, Object, ObjectId};

use super::budget::Exceeded;
use super::cache::Cache;
use super::font::Font;

/// Text shown by one Tj/TJ/'/" operator, in device space (y grows upwards).
#[derive(Debug, Clone)]
pub struct TextRun {
    pub text: String,
    pub x: f32,
    pub y: f32,
    pub end_x: f32,
    /// Font size in device space.
    pub size: f32,
    pub bold: bool,
    /// Text not laid out left-to-right (rotated or vertical writing).
    pub rotated: bool,
}

/// What the interpreter saw on one page.
#[derive(Debug, Default)]
pub struct PageContent {
    pub runs: Vec<TextRun>,
    /// Glyphs that decoded to text.
    pub glyphs: usize,
    /// Glyphs from fonts that cannot be mapped to Unicode (dropped).
    pub unmappable: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Matrix([f32; 6]);

impl Matrix {
    const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    fn translate(tx: f32, ty: f32) -> Matrix {
        Matrix([1.0, 0.0, 0.0, 1.0, tx, ty])
    }

    /// `self × other` (apply self first, then other), as PDF concatenation does.
    fn then(&self, other: &Matrix) -> Matrix {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = other.0;
        Matrix([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }

    fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        let [a, b, c, d, e, f] = self.0;
        (x * a + y * c + e, x * b + y * d + f)
    }
}

#[derive(Clone)]
struct GraphicsState {
    ctm: Matrix,
    char_spacing: f32,
    word_spacing: f32,
    h_scale: f32,
    leading: f32,
    rise: f32,
    font_size: f32,
    font: Option<Rc<Font>>,
}

impl Default for GraphicsState {
    fn default() -> Self {
        GraphicsState {
            ctm: Matrix::IDENTITY,
            char_spacing: 0.0,
            word_spacing: 0.0,
            h_scale: 1.0,
            leading: 0.0,
            rise: 0.0,
            font_size: 0.0,
            font: None,
        }
    }
}

const MAX_FORM_DEPTH: usize = 8;

fn num(obj: &Object) -> f32 {
    match obj {
        Object::Integer(i) => *i as f32,
        Object::Real(r) => *r,
        _ => 0.0,
    }
}

fn nums<const N: usize>(ops: &[Object]) -> Option<[f32; N]> {
    if ops.len() < N {
        return None;
    }
    let mut out = [0.0; N];
    for (slot, o) in out.iter_mut().zip(&ops[ops.len() - N..]) {
        *slot = num(o);
    }
    Some(out)
}

struct Interpreter<'a, 'c> {
    cache: &'c mut Cache<'a>,
    out: PageContent,
}

impl<'a> Interpreter<'a, '_> {
    fn font(
        &mut self,
        resources: &[&'a Dictionary],
        name: &[u8],
    ) -> Result<Option<Rc<Font>>, Exceeded> {
        let entry = resources.iter().find_map(|res| {
            let fonts = self.dict_entry(res, b"Font")?;
            fonts.get(name).ok()
        });
        match entry {
            Some(entry) => self.cache.font(entry),
            None => Ok(None),
        }
    }

    fn dict_entry(&self, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Dictionary> {
        let obj = dict.get(key).ok()?;
        self.cache
            .doc
            .dereference(obj)
            .ok()
            .and_then(|(_, o)| o.as_dict().ok())
    }

    fn run(
        &mut self,
        content: &[u8],
        resources: &[&'a Dictionary],
        state: GraphicsState,
        depth: usize,
    ) -> Result<(), Exceeded> {
        let mut gs = state;
        let mut stack: Vec<GraphicsState> = Vec::new();
        let mut tm = Matrix::IDENTITY;
        let mut tlm = Matrix::IDENTITY;
        // Operators are parsed one at a time: a long stream is never held as a whole.
        for op in Content::decode_iter(content) {
            let Ok(op) = op else {
                break;
            };
            self.cache.budget.operation()?;
            let ops = &op.operands;
            match op.operator.as_str() {
                "q" => stack.push(gs.clone()),
                "Q" => {
                    if let Some(s) = stack.pop() {
                        gs = s;
                    }
                }
                "cm" => {
                    if let Some(m) = nums::<6>(ops) {
                        gs.ctm = Matrix(m).then(&gs.ctm);
                    }
                }
                "BT" => {
                    tm = Matrix::IDENTITY;
                    tlm = Matrix::IDENTITY;
                }
                "Tf" => {
                    if let (Some(Object::Name(n)), Some(size)) = (ops.first(), ops.get(1)) {
                        gs.font = self.font(resources, n)?;
                        gs.font_size = num(size);
                    }
                }
                "Tc" => gs.char_spacing = ops.first().map_or(0.0, num),
                "Tw" => gs.word_spacing = ops.first().map_or(0.0, num),
                "Tz" => gs.h_scale = ops.first().map_or(100.0, num) / 100.0,
                "TL" => gs.leading = ops.first().map_or(0.0, num),
                "Ts" => gs.rise = ops.first().map_or(0.0, num),
                "Td" | "TD" => {
                    if let Some([tx, ty]) = nums::<2>(ops) {
                        if op.operator == "TD" {
                            gs.leading = -ty;
                        }
                        tlm = Matrix::translate(tx, ty).then(&tlm);
                        tm = tlm;
                    }
                }
                "Tm" => {
                    if let Some(m) = nums::<6>(ops) {
                        tlm = Matrix(m);
                        tm = tlm;
                    }
                }
                "T*" => {
                    tlm = Matrix::translate(0.0, -gs.leading).then(&tlm);
                    tm = tlm;
                }
                "Tj" | "'" | "\"" | "TJ" => {
                    if op.operator != "Tj" && op.operator != "TJ" {
                        if op.operator == "\"" && ops.len() >= 3 {
                            gs.word_spacing = num(&ops[0]);
                            gs.char_spacing = num(&ops[1]);
                        }
                        tlm = Matrix::translate(0.0, -gs.leading).then(&tlm);
                        tm = tlm;
                    }
                    let items: &[Object] = match (op.operator.as_str(), ops.last()) {
                        ("TJ", Some(Object::Array(a))) => a,
                        (_, Some(last)) => std::slice::from_ref(last),
                        _ => &[],
                    };
                    self.show(items, &gs, &mut tm)?;
                }
                "Do" => {
                    if depth < MAX_FORM_DEPTH
                        && let Some(Object::Name(n)) = ops.first()
                    {
                        self.form(resources, n, &gs, depth)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn form(
        &mut self,
        resources: &[&'a Dictionary],
        name: &[u8],
        gs: &GraphicsState,
        depth: usize,
    ) -> Result<(), Exceeded> {
        let entry = resources.iter().find_map(|res| {
            let xobjects = self.dict_entry(res, b"XObject")?;
            xobjects.get(name).ok()
        });
        let Some(form) = entry.map(|e| self.cache.form(e)).transpose()?.flatten() else {
            return Ok(());
        };
        let mut state = gs.clone();
        if let Ok(Object::Array(m)) = form.dict.get(b"Matrix")
            && m.len() == 6
        {
            let mut v = [0.0; 6];
            for (slot, o) in v.iter_mut().zip(m) {
                *slot = num(o);
            }
            state.ctm = Matrix(v).then(&state.ctm);
        }
        let mut inner: Vec<&'a Dictionary> = Vec::with_capacity(resources.len() + 1);
        if let Some(own) = self.dict_entry(form.dict, b"Resources") {
            inner.push(own);
        }
        inner.extend_from_slice(resources);
        self.run(&form.content, &inner, state, depth + 1)
    }

    fn show(
        &mut self,
        items: &[Object],
        gs: &GraphicsState,
        tm: &mut Matrix,
    ) -> Result<(), Exceeded> {
        let Some(font) = gs.font.clone() else {
            return Ok(());
        };
        let size = gs.font_size;
        let start = Matrix::translate(0.0, gs.rise).then(tm).then(&gs.ctm);
        let (x, y) = start.apply(0.0, 0.0);
        let device_size = (size * (start.0[2].hypot(start.0[3]))).abs();
        let rotated = font.vertical || start.0[1].abs() > 1e-3 || start.0[0] <= 0.0;
        let mut text = String::new();
        for item in items {
            match item {
                Object::String(bytes, _) => {
                    for glyph in font.decode(bytes) {
                        match &glyph.text {
                            Some(t) => {
                                self.out.glyphs += 1;
                                text.push_str(t);
                            }
                            None if !font.symbolic => self.out.unmappable += 1,
                            None => {}
                        }
                        let spacing = gs.char_spacing
                            + if glyph.is_space_code {
                                gs.word_spacing
                            } else {
                                0.0
                            };
                        if font.vertical {
                            *tm = Matrix::translate(0.0, -(glyph.width * size + spacing)).then(tm);
                        } else {
                            let tx = (glyph.width * size + spacing) * gs.h_scale;
                            *tm = Matrix::translate(tx, 0.0).then(tm);
                        }
                    }
                }
                other => {
                    let adjust = num(other);
                    // A large negative kern is a word gap drawn without a space glyph.
                    if adjust < -200.0 && !text.ends_with(char::is_whitespace) && !text.is_empty() {
                        text.push(' ');
                    }
                    let shift = -adjust / 1000.0 * size;
                    *tm = if font.vertical {
                        Matrix::translate(0.0, shift)
                    } else {
                        Matrix::translate(shift * gs.h_scale, 0.0)
                    }
                    .then(tm);
                }
            }
        }
        if text.is_empty() {
            return Ok(());
        }
        self.cache
            .budget
            .text(text.len() + std::mem::size_of::<TextRun>())?;
        let (end_x, _) = Matrix::translate(0.0, gs.rise)
            .then(tm)
            .then(&gs.ctm)
            .apply(0.0, 0.0);
        self.out.runs.push(TextRun {
            text,
            x,
            y,
            end_x,
            size: device_size,
            bold: font.bold,
            rotated,
        });
        Ok(())
    }
}

/// Interprets one page's content streams.
pub fn page_content<'a>(cache: &mut Cache<'a>, page: ObjectId) -> Result<PageContent, Exceeded> {
    let doc = cache.doc;
    let mut data = Vec::new();
    for id in doc.get_page_contents(page) {
        if let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) {
            data.extend(cache.budget.decode_or_raw(stream)?);
            data.push(b'\n');
        }
    }
    let (own, inherited) = doc.get_page_resources(page).unwrap_or((None, Vec::new()));
    let mut resources: Vec<&'a Dictionary> = own.into_iter().collect();
    resources.extend(
        inherited
            .iter()
            .filter_map(|id| doc.get_dictionary(*id).ok()),
    );
    let mut interp = Interpreter {
        cache,
        out: PageContent::default(),
    };
    interp.run(&data, &resources, GraphicsState::default(), 0)?;
    Ok(interp.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_concatenation_applies_left_first() {
        let scale = Matrix([2.0, 0.0, 0.0, 2.0, 0.0, 0.0]);
        let shift = Matrix::translate(10.0, 5.0);
        assert_eq!(shift.then(&scale).apply(0.0, 0.0), (20.0, 10.0));
        assert_eq!(scale.then(&shift).apply(1.0, 1.0), (12.0, 7.0));
    }
}
