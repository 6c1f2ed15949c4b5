//! Interns ids (branches, users) as dense integers so keyed state and fact rows stay small and fast.

use hashbrown::HashMap;
use schemas::Id;
use serde::{Deserialize, Serialize};

/// A two-way map between string ids and dense `u32` keys, in first-seen order. Serialised as the list of
/// names; the lookup index is rebuilt on deserialisation. The index holds its keys inline (ids of up to 24
/// bytes on 64-bit targets), so a lookup, made for the branch and the user of every event, compares
/// without following a pointer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "Vec<Box<str>>", into = "Vec<Box<str>>")]
pub struct Interner {
    names: Vec<Box<str>>,
    index: HashMap<Id, u32>,
}

impl From<Vec<Box<str>>> for Interner {
    fn from(names: Vec<Box<str>>) -> Self {
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (Id::from(&**n), i as u32))
            .collect();
        Self { names, index }
    }
}

impl From<Interner> for Vec<Box<str>> {
    fn from(interner: Interner) -> Self {
        interner.names
    }
}

impl Interner {
    /// The key of `name`, adding it if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&key) = self.index.get(name) {
            return key;
        }
        let key = self.names.len() as u32;
        self.names.push(name.into());
        self.index.insert(Id::from(name), key);
        key
    }

    /// The key of `name`, if interned.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The name of `key`.
    pub fn name(&self, key: u32) -> &str {
        &self.names[key as usize]
    }

    /// How many names are interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Returns true if and only if nothing is interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deserialised_interner_finds_its_names() {
        let mut interner = Interner::default();
        assert_eq!(
            (
                interner.intern("b01"),
                interner.intern("b02"),
                interner.intern("b01")
            ),
            (0, 1, 0)
        );
        let restored: Interner =
            serde_json::from_str(&serde_json::to_string(&interner).unwrap()).unwrap();
        assert_eq!((restored.get("b02"), restored.name(0)), (Some(1), "b01"));
    }
}
