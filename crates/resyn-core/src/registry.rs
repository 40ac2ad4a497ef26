//! A set of environments looked up by id.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::{EnvMeta, Environment, Error, Result};

/// Environments by id, iterated in id order (never hash order).
#[derive(Clone, Default)]
pub struct Registry {
    envs: BTreeMap<String, Arc<dyn Environment>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.envs.keys()).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an environment.
    ///
    /// # Errors
    /// [`Error::DuplicateEnvironment`] if its id is taken.
    pub fn register(&mut self, env: Arc<dyn Environment>) -> Result<()> {
        let id = env.meta().id.clone();
        if self.envs.contains_key(&id) {
            return Err(Error::DuplicateEnvironment(id));
        }
        self.envs.insert(id, env);
        Ok(())
    }

    /// The environment with this id.
    ///
    /// # Errors
    /// [`Error::UnknownEnvironment`] if there is none.
    pub fn get(&self, id: &str) -> Result<&Arc<dyn Environment>> {
        self.envs
            .get(id)
            .ok_or_else(|| Error::UnknownEnvironment(id.to_string()))
    }

    /// All environments in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Environment>> {
        self.envs.values()
    }

    /// All metadata in id order.
    pub fn metas(&self) -> Vec<EnvMeta> {
        self.envs.values().map(|e| e.meta().clone()).collect()
    }

    /// Number of environments.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }
}
