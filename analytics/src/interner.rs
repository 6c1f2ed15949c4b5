//! Interns ids (branches, users) as dense integers so keyed state and fact rows stay small and fast.

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

/// A two-way map between string ids and dense `u32` keys, in first-seen order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Interner {
    names: Vec<Box<str>>,
    #[serde(skip)]
    index: HashMap<Box<str>, u32>,
}

impl Interner {
    /// The key of `name`, adding it if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&key) = self.index.get(name) {
            return key;
        }
        let key = self.names.len() as u32;
        self.names.push(name.into());
        self.index.insert(name.into(), key);
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

    /// Rebuilds the lookup index after deserialisation.
    pub fn rebuild_index(&mut self) {
        self.index = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
    }
}
