//! Records the versions of the components that are measured (wasmtime) so results
//! can name them; read from Cargo.lock, which pins exactly what was compiled in.

fn main() {
    // Read at run time: a build script compiled for a clone at another path (a shared
    // target directory) must not read that clone's lock file.
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let lock_path = format!("{dir}/../Cargo.lock");
    println!("cargo:rerun-if-changed={lock_path}");
    let lock = std::fs::read_to_string(&lock_path).unwrap_or_default();
    for krate in ["wasmtime", "wasmtime-wasi"] {
        let version = locked_version(&lock, krate).unwrap_or_else(|| "unknown".into());
        let var = krate.to_uppercase().replace('-', "_");
        println!("cargo:rustc-env=COLDSTART_{var}_VERSION={version}");
    }
}

fn locked_version(lock: &str, krate: &str) -> Option<String> {
    let header = format!("name = \"{krate}\"\n");
    let at = lock.find(&header)? + header.len();
    let line = lock[at..].lines().next()?;
    Some(
        line.strip_prefix("version = ")?
            .trim_matches('"')
            .to_string(),
    )
}
