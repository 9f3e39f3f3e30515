//! The initramfs of `vm:minimal`: a cpio archive (the kernel's "newc" format,
//! uncompressed) whose `/init` is the static native probe, plus the two device nodes
//! it needs before anything could create them (`/dev/console` for init's stdio,
//! `/dev/ttyS1` for the protocol). Built in memory from the probe, written once under
//! a name that is its SHA-256, and reused while the probe is unchanged: the same
//! content-addressing as the Docker image.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const MAGIC: &str = "070701";
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFCHR: u32 = 0o020000;

/// One entry of a newc archive.
struct Entry<'a> {
    name: &'a str,
    mode: u32,
    data: &'a [u8],
    /// Major and minor of a device node.
    rdev: (u32, u32),
}

fn pad4(out: &mut Vec<u8>) {
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

fn write_entry(out: &mut Vec<u8>, ino: u32, entry: &Entry) {
    let name_len = entry.name.len() as u32 + 1; // with its NUL
    let fields = [
        ino,
        entry.mode,
        0, // uid
        0, // gid
        if entry.mode & S_IFDIR == S_IFDIR {
            2
        } else {
            1
        },
        0, // mtime: fixed, so equal inputs give equal bytes
        entry.data.len() as u32,
        0, // dev major
        0, // dev minor
        entry.rdev.0,
        entry.rdev.1,
        name_len,
        0, // check
    ];
    out.extend_from_slice(MAGIC.as_bytes());
    for field in fields {
        out.extend_from_slice(format!("{field:08X}").as_bytes());
    }
    out.extend_from_slice(entry.name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(entry.data);
    pad4(out);
}

/// The archive's bytes: `/init` is `probe`.
pub fn archive(probe: &[u8]) -> Vec<u8> {
    let entries = [
        Entry {
            name: "dev",
            mode: S_IFDIR | 0o755,
            data: &[],
            rdev: (0, 0),
        },
        Entry {
            name: "dev/console",
            mode: S_IFCHR | 0o600,
            data: &[],
            rdev: (5, 1),
        },
        Entry {
            name: "dev/ttyS1",
            mode: S_IFCHR | 0o600,
            data: &[],
            rdev: (4, 65),
        },
        Entry {
            name: "init",
            mode: S_IFREG | 0o755,
            data: probe,
            rdev: (0, 0),
        },
    ];
    let mut out = Vec::with_capacity(probe.len() + 1024);
    for (i, entry) in entries.iter().enumerate() {
        write_entry(&mut out, i as u32 + 1, entry);
    }
    write_entry(
        &mut out,
        0,
        &Entry {
            name: "TRAILER!!!",
            mode: 0,
            data: &[],
            rdev: (0, 0),
        },
    );
    out
}

/// An initramfs archive written to disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initramfs {
    pub path: PathBuf,
    /// The archive's SHA-256, hex.
    pub sha256: String,
}

/// Writes the archive for `probe` into `dir` (once: its name is its hash) and
/// returns where it is.
pub fn ensure(probe: &Path, dir: &Path) -> anyhow::Result<Initramfs> {
    use anyhow::Context as _;
    let bytes = std::fs::read(probe).with_context(|| format!("reading {}", probe.display()))?;
    let archive = archive(&bytes);
    let sha: String = Sha256::digest(&archive)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let path = dir.join(format!("initramfs-{}.cpio", &sha[..16]));
    if !path.is_file() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        // Written beside and renamed: a concurrent run never boots half a file.
        let partial = dir.join(format!(".initramfs-{}.{}", &sha[..16], std::process::id()));
        std::fs::write(&partial, &archive)
            .with_context(|| format!("writing {}", partial.display()))?;
        std::fs::rename(&partial, &path)
            .with_context(|| format!("renaming into {}", path.display()))?;
    }
    Ok(Initramfs { path, sha256: sha })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Name, mode, data and device numbers of one entry read back.
    type ReadBack = (String, u32, Vec<u8>, (u32, u32));

    /// Reads the archive back as the kernel does: headers, names, padded data.
    fn entries(bytes: &[u8]) -> Vec<ReadBack> {
        let mut at = 0;
        let mut out = Vec::new();
        loop {
            assert_eq!(&bytes[at..at + 6], MAGIC.as_bytes(), "magic at {at}");
            let field = |i: usize| {
                let start = at + 6 + i * 8;
                u32::from_str_radix(std::str::from_utf8(&bytes[start..start + 8]).unwrap(), 16)
                    .unwrap()
            };
            let (mode, size, rmaj, rmin, name_len) = (
                field(1),
                field(6) as usize,
                field(9),
                field(10),
                field(11) as usize,
            );
            let name_at = at + 110;
            let name = std::str::from_utf8(&bytes[name_at..name_at + name_len - 1]).unwrap();
            assert_eq!(bytes[name_at + name_len - 1], 0);
            let data_at = (name_at + name_len).next_multiple_of(4);
            let data = bytes[data_at..data_at + size].to_vec();
            at = (data_at + size).next_multiple_of(4);
            if name == "TRAILER!!!" {
                assert_eq!(at, bytes.len(), "nothing after the trailer");
                return out;
            }
            out.push((name.to_string(), mode, data, (rmaj, rmin)));
        }
    }

    #[test]
    fn newc_archive_holds_the_probe_as_init_and_the_device_nodes() {
        let probe = b"\x7fELF not really, 23 bytes";
        let bytes = archive(probe);
        let got = entries(&bytes);
        let names: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names, ["dev", "dev/console", "dev/ttyS1", "init"]);
        assert_eq!(got[1].1, S_IFCHR | 0o600);
        assert_eq!(got[1].3, (5, 1));
        assert_eq!(got[2].3, (4, 65));
        assert_eq!(got[3].1, S_IFREG | 0o755);
        assert_eq!(got[3].2, probe);
        // Deterministic: the same probe gives the same bytes (and so the same name).
        assert_eq!(archive(probe), bytes);
        assert_ne!(archive(b"another probe"), bytes);
    }
}
