//! Reading and writing DynamoDB items: attribute maps to and from plain values.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::store::StoreError;

pub type Item = HashMap<String, AttributeValue>;

/// An item under construction.
#[derive(Default)]
pub struct Builder(Item);

impl Builder {
    pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Builder {
        Builder::default()
            .s(super::keys::PK, pk)
            .s(super::keys::SK, sk)
    }

    pub fn s(mut self, name: &str, value: impl Into<String>) -> Builder {
        self.0.insert(name.into(), AttributeValue::S(value.into()));
        self
    }

    pub fn n(mut self, name: &str, value: impl ToString) -> Builder {
        self.0
            .insert(name.into(), AttributeValue::N(value.to_string()));
        self
    }

    pub fn bool(mut self, name: &str, value: bool) -> Builder {
        self.0.insert(name.into(), AttributeValue::Bool(value));
        self
    }

    pub fn opt_s(self, name: &str, value: Option<impl Into<String>>) -> Builder {
        match value {
            Some(v) => self.s(name, v),
            None => self,
        }
    }

    /// f32s as little-endian bytes: exact, where a number attribute would round them.
    pub fn floats(mut self, name: &str, values: &[f32]) -> Builder {
        let bytes: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.0
            .insert(name.into(), AttributeValue::B(Blob::new(bytes)));
        self
    }

    pub fn build(self) -> Item {
        self.0
    }
}

fn missing(name: &str) -> StoreError {
    StoreError::Invalid(format!("item without a valid {name:?}"))
}

pub fn s(item: &Item, name: &str) -> Result<String, StoreError> {
    opt_s(item, name)?.ok_or_else(|| missing(name))
}

pub fn opt_s(item: &Item, name: &str) -> Result<Option<String>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
        Some(_) => Err(missing(name)),
    }
}

pub fn n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    opt_n(item, name)?.ok_or_else(|| missing(name))
}

pub fn opt_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<Option<T>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(|_| missing(name)),
        Some(_) => Err(missing(name)),
    }
}

pub fn bool(item: &Item, name: &str) -> Result<bool, StoreError> {
    match item.get(name) {
        Some(AttributeValue::Bool(v)) => Ok(*v),
        _ => Err(missing(name)),
    }
}

pub fn opt_floats(item: &Item, name: &str) -> Result<Option<Vec<f32>>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::B(blob)) => {
            let bytes = blob.as_ref();
            if !bytes.len().is_multiple_of(4) {
                return Err(missing(name));
            }
            Ok(Some(
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            ))
        }
        Some(_) => Err(missing(name)),
    }
}

pub fn json(item: &Item, name: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(&s(item, name)?).map_err(|e| StoreError::Invalid(e.to_string()))
}
