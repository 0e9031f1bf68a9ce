//! What the pages of one document share: fonts and form XObjects decoded once, and the
//! document's budget. Caching matters on hostile files too: a form drawn thousands of times or a
//! font selected by every operator must not be decoded again each time.

use std::collections::HashMap;
use std::rc::Rc;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::budget::{Budget, Exceeded};
use super::font::Font;

/// A resource: by object number, or by its address in the document for a direct object
/// (an inline font dictionary), which is stable while the document is borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Object(ObjectId),
    Direct(*const Object),
}

/// A decoded form XObject.
pub struct Form<'a> {
    pub dict: &'a Dictionary,
    pub content: Rc<[u8]>,
}

pub struct Cache<'a> {
    pub doc: &'a Document,
    pub budget: Budget,
    fonts: HashMap<Key, Rc<Font>>,
    forms: HashMap<Key, Option<Rc<[u8]>>>,
}

impl<'a> Cache<'a> {
    pub fn new(doc: &'a Document, budget: Budget) -> Self {
        Cache {
            doc,
            budget,
            fonts: HashMap::new(),
            forms: HashMap::new(),
        }
    }

    /// The resource an entry of a resource dictionary points to, and its cache key.
    fn resolve(&self, entry: &'a Object) -> Option<(Key, &'a Object)> {
        let (id, obj) = self.doc.dereference(entry).ok()?;
        Some((id.map_or(Key::Direct(obj), Key::Object), obj))
    }

    /// The font of a /Font resource entry.
    pub fn font(&mut self, entry: &'a Object) -> Result<Option<Rc<Font>>, Exceeded> {
        let Some((key, obj)) = self.resolve(entry) else {
            return Ok(None);
        };
        if let Some(font) = self.fonts.get(&key) {
            return Ok(Some(font.clone()));
        }
        let Ok(dict) = obj.as_dict() else {
            return Ok(None);
        };
        let font = Rc::new(Font::load(self.doc, dict, &mut self.budget)?);
        self.fonts.insert(key, font.clone());
        Ok(Some(font))
    }

    /// The form of an /XObject resource entry; `None` for images and undecodable streams.
    pub fn form(&mut self, entry: &'a Object) -> Result<Option<Form<'a>>, Exceeded> {
        let Some((key, obj)) = self.resolve(entry) else {
            return Ok(None);
        };
        let Ok(stream) = obj.as_stream() else {
            return Ok(None);
        };
        let content = match self.forms.get(&key) {
            Some(cached) => cached.clone(),
            None => {
                let is_form =
                    stream.dict.get(b"Subtype").and_then(|o| o.as_name()).ok() == Some(b"Form");
                let content = if is_form {
                    self.budget.decode(stream)?.map(Rc::from)
                } else {
                    None
                };
                self.forms.insert(key, content.clone());
                content
            }
        };
        Ok(content.map(|content| Form {
            dict: &stream.dict,
            content,
        }))
    }
}
