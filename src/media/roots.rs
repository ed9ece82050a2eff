//! Where media may live: the directories the daemon was told to serve images from. A path is
//! admitted when its real location (symlinks resolved) is inside one of them; `..` is refused
//! by the configuration parser before this. With no directories configured, any absolute
//! path is admitted.
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaRoots {
    roots: Vec<PathBuf>,
}

impl MediaRoots {
    /// Any path (no confinement).
    pub fn anywhere() -> Self {
        MediaRoots::default()
    }

    /// Confine media to `dirs`, which must exist (they are resolved now, once).
    pub fn new(dirs: &[PathBuf]) -> Result<Self, String> {
        let roots = dirs
            .iter()
            .map(|d| {
                let real = std::fs::canonicalize(d)
                    .map_err(|e| format!("media directory {}: {e}", d.display()))?;
                if real.is_dir() {
                    Ok(real)
                } else {
                    Err(format!("media directory {}: not a directory", d.display()))
                }
            })
            .collect::<Result<_, String>>()?;
        Ok(MediaRoots { roots })
    }

    pub fn is_confined(&self) -> bool {
        !self.roots.is_empty()
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Whether the drive may open `path`: `Err` names the problem.
    pub fn admit(&self, path: &Path) -> Result<(), String> {
        if self.roots.is_empty() {
            return Ok(());
        }
        // A missing file is admitted by its directory (the tray shows empty until it exists).
        let real = match std::fs::canonicalize(path) {
            Ok(p) => p,
            Err(_) => match (path.parent(), path.file_name()) {
                (Some(dir), Some(name)) => std::fs::canonicalize(dir)
                    .map(|d| d.join(name))
                    .unwrap_or_else(|_| path.to_owned()),
                _ => path.to_owned(),
            },
        };
        if self.roots.iter().any(|r| real.starts_with(r)) {
            return Ok(());
        }
        let via = if real != path {
            format!(" (it resolves to {})", real.display())
        } else {
            String::new()
        };
        let dirs: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        Err(format!(
            "{}{via} is outside the media directories ({})",
            path.display(),
            dirs.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_that_really_lie_inside_are_admitted() {
        let base = std::env::temp_dir().join(format!("tcmu-mmc-roots-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let media = base.join("media");
        let secret = base.join("secret");
        std::fs::create_dir_all(&media).unwrap();
        std::fs::create_dir_all(&secret).unwrap();
        std::fs::write(media.join("disc.iso"), b"x").unwrap();
        std::fs::write(secret.join("key"), b"x").unwrap();
        std::os::unix::fs::symlink(secret.join("key"), media.join("link.iso")).unwrap();
        std::os::unix::fs::symlink(&secret, media.join("dirlink")).unwrap();

        let roots = MediaRoots::new(std::slice::from_ref(&media)).unwrap();
        assert!(roots.admit(&media.join("disc.iso")).is_ok());
        assert!(roots.admit(&media.join("not-yet.iso")).is_ok());
        let e = roots.admit(&media.join("link.iso")).unwrap_err();
        assert!(e.contains("resolves to") && e.contains("outside"), "{e}");
        assert!(roots.admit(&media.join("dirlink/new.iso")).is_err());
        assert!(roots.admit(&secret.join("key")).is_err());
        assert!(roots.admit(Path::new("/etc/passwd")).is_err());
        assert!(MediaRoots::anywhere().admit(&secret.join("key")).is_ok());
        let e = MediaRoots::new(&[base.join("nope")]).unwrap_err();
        assert!(e.contains("nope"), "{e}");
        let _ = std::fs::remove_dir_all(&base);
    }
}
