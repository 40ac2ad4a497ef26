//! Reading an instances file (`resyn generate` output) to resolve the
//! instance ids of responses: `verify` and `audit` share this.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use resyn_core::{Instance, Registry};

/// The instances of `path` by id. Every instance must name an environment
/// of `registry`; an id may repeat only with identical content. Errors name
/// `file:line`.
pub(crate) fn read(path: &Path, registry: &Registry) -> anyhow::Result<HashMap<String, Instance>> {
    let mut instances: HashMap<String, Instance> = HashMap::new();
    for (line, inst) in crate::jsonl::read::<Instance>(path)? {
        let at = || format!("{}:{line}", path.display());
        registry
            .get(&inst.env)
            .with_context(|| format!("{}: instance {}", at(), inst.id))?;
        if let Some(prev) = instances.get(&inst.id)
            && *prev != inst
        {
            bail!(
                "{}: instance id {} appears twice with different content",
                at(),
                inst.id
            );
        }
        instances.insert(inst.id.clone(), inst);
    }
    Ok(instances)
}
