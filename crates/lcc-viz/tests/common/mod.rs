//! What the diagram tests share: the model files of the corpus and of `stdlib/`.

use std::path::{Path, PathBuf};

/// Model files under `dir`, recursively, sorted (scenario files and notes left out).
pub fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e != "md" && e != "toml") {
            out.push(path);
        }
    }
}

/// `../shared/corpus` beside the repository, when it is there.
pub fn corpus_root() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    root.is_dir().then_some(root)
}

/// `stdlib/` of the repository.
pub fn stdlib_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib")
}
