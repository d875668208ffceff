//! The state the Python `ap` keeps, read and written the same way so that either tool can
//! be used at any moment: `~/.agentpowers/auth.json` (`{"token": "..."}`, the folder
//! mode 700, the file mode 600).

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use anyhow::Context;

/// `~/.agentpowers`.
pub fn dir() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    Ok(PathBuf::from(home).join(".agentpowers"))
}

fn auth_file() -> anyhow::Result<PathBuf> {
    Ok(dir()?.join("auth.json"))
}

/// The stored token, if there is a readable one.
pub fn token() -> anyhow::Result<Option<String>> {
    let path = auth_file()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
    };
    let stored: serde_json::Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(_) => return Ok(None),
    };
    Ok(stored["token"].as_str().map(str::to_owned))
}

/// Stores `token` (readable by its owner only).
pub fn save_token(token: &str) -> anyhow::Result<()> {
    let dir = dir()?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    let path = auth_file()?;
    // Written whole beside it, then renamed over it: the other tool never reads half a file.
    let staged = dir.join(format!(".auth.json.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&staged)
        .with_context(|| format!("writing {}", staged.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(serde_json::json!({ "token": token }).to_string().as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&staged, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Forgets the stored token.
pub fn delete_token() -> anyhow::Result<()> {
    match std::fs::remove_file(auth_file()?) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
        _ => Ok(()),
    }
}
