//! Reading scenario files and turning a seed into answers for the model's choice points.

use asyncspec_model::Scenario;
use std::path::Path;

/// How many choice answers a seed expands to (runs meet far fewer choice points).
pub const CHOICES_FROM_SEED: usize = 256;

/// Read and validate a scenario file; the error names the file and the place.
pub fn load(path: &Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    Scenario::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The choice answers a seed stands for (each taken modulo the options at its point).
pub fn choice_script(seed: u64) -> Vec<usize> {
    let mut c = asyncspec_sim::seed::Choices::new(seed);
    (0..CHOICES_FROM_SEED)
        .map(|_| (c.next_u64() % 1_000_003) as usize)
        .collect()
}
