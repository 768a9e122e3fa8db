//! `bench/results.json`: each bench writes its own keys and keeps the others'.

use std::path::Path;

use serde_json::Value;

use crate::error::{BenchError, Context, Result};

/// `results` with `key` set to `value`.
pub fn merged(mut results: Value, key: &str, value: Value) -> Result<Value> {
    let map = results
        .as_object_mut()
        .ok_or_else(|| BenchError::new("the results file is not a JSON object"))?;
    map.insert(key.to_owned(), value);
    Ok(results)
}

/// Sets keys of the results file (created when missing), written back pretty-printed.
pub fn write(path: &Path, entries: Vec<(&str, Value)>) -> Result<()> {
    let mut results = match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).context(|| format!("parse {}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Value::Object(serde_json::Map::new()),
        Err(e) => return Err(BenchError::new(format!("read {}: {e}", path.display()))),
    };
    for (key, value) in entries {
        results = merged(results, key, value)?;
    }
    let text =
        serde_json::to_string_pretty(&results).context(|| "serialize the results".to_owned())?;
    std::fs::write(path, text + "\n").context(|| format!("write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bench_replaces_its_key_and_keeps_the_others() {
        let before = json!({"functions": {"old": 1}, "discovery_at_scale": {"points": []}});
        let after = merged(before, "functions", json!({"new": 2})).unwrap();
        assert_eq!(
            after,
            json!({"functions": {"new": 2}, "discovery_at_scale": {"points": []}})
        );
        assert!(merged(json!([]), "load", json!({})).is_err());
    }
}
