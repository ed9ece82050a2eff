//! Making targetcli's saved configuration (`/etc/target/saveconfig.json`) safe to restore
//! beside tcmu-runner.
//!
//! rtslib restores a `user` backstore by writing its saved `control` string and then `enable`;
//! its other attributes, `nl_reply_supported` among them, only afterwards. While tcmu-runner
//! runs, the kernel waits at that `enable` for a netlink reply from any handler and takes the
//! first: runner answers `-ENOENT` for the `mmc` subtype it does not serve, so whether a drive
//! comes back is a race. `nl_reply_supported=-1` in `control` makes the kernel not wait for
//! the device at all, but rtslib's `saveconfig` drops it (it rebuilds `control` from three
//! keys only). [`prepare`] puts it back into every `mmc` backstore of a saved configuration:
//! the systemd unit runs `tcmu-mmc saveconfig-prepare` before `target.service` restores.
use serde_json::Value;

/// The `control` key that keeps the kernel from waiting for netlink replies for a device.
const NO_REPLY_WAIT: &str = "nl_reply_supported=-1";

/// What is wrong with a saved configuration.
#[derive(Debug)]
pub enum PrepareError {
    /// Not JSON.
    Json(serde_json::Error),
    /// JSON, but not rtslib's layout: the field that is missing or of the wrong type.
    Layout(&'static str),
}

impl std::fmt::Display for PrepareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrepareError::Json(e) => write!(f, "not JSON: {e}"),
            PrepareError::Layout(what) => write!(f, "not a targetcli saveconfig file: {what}"),
        }
    }
}

impl std::error::Error for PrepareError {}

/// The configuration `text` with `nl_reply_supported=-1` in the `control` string (and
/// attributes) of every `user` storage object whose config is `mmc/...`, and the names of the
/// storage objects that were changed (none: `text` is already prepared). Everything else,
/// key order included, stays as it was.
pub fn prepare(text: &str) -> Result<(String, Vec<String>), PrepareError> {
    let mut root: Value = serde_json::from_str(text).map_err(PrepareError::Json)?;
    let Some(objects) = root.get_mut("storage_objects") else {
        // A configuration without backstores (targetcli's after clearconfig) has nothing to do.
        return Ok((text.to_string(), Vec::new()));
    };
    let objects = objects
        .as_array_mut()
        .ok_or(PrepareError::Layout("storage_objects is not a list"))?;
    let mut changed = Vec::new();
    for so in objects {
        let so = so
            .as_object_mut()
            .ok_or(PrepareError::Layout("a storage object is not an object"))?;
        let ours = so.get("plugin").and_then(Value::as_str) == Some("user")
            && so
                .get("config")
                .and_then(Value::as_str)
                .is_some_and(|c| c.starts_with("mmc/"));
        if !ours {
            continue;
        }
        let control = match so.get("control") {
            None | Some(Value::Null) => "",
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(PrepareError::Layout("a control field is not a string")),
        };
        let new_control = with_no_reply_wait(control);
        let mut touched = new_control != control;
        so.insert("control".into(), Value::String(new_control));
        if let Some(attrs) = so.get_mut("attributes").and_then(Value::as_object_mut) {
            // Restored after enable: keeps the later events (medium changes, removal) from
            // waiting either.
            if attrs.get("nl_reply_supported").and_then(Value::as_i64) != Some(-1) {
                attrs.insert("nl_reply_supported".into(), Value::from(-1));
                touched = true;
            }
        }
        if touched {
            let name = so.get("name").and_then(Value::as_str).unwrap_or("?");
            changed.push(name.to_string());
        }
    }
    if changed.is_empty() {
        return Ok((text.to_string(), changed));
    }
    let mut out = serde_json::to_string_pretty(&root).map_err(PrepareError::Json)?;
    out.push('\n');
    Ok((out, changed))
}

/// `control` (comma-separated `key=value`) with `nl_reply_supported=-1` in place of any other
/// `nl_reply_supported` setting.
fn with_no_reply_wait(control: &str) -> String {
    let mut keys: Vec<&str> = control
        .split(',')
        .filter(|kv| !kv.trim().is_empty())
        .filter(|kv| kv.split('=').next().map(str::trim) != Some("nl_reply_supported"))
        .collect();
    keys.push(NO_REPLY_WAIT);
    keys.join(",")
}

/// Prepare the file at `path` in place (written to a temporary file beside it, then renamed):
/// the names of the backstores changed. A missing file is nothing to prepare.
pub fn prepare_file(path: &std::path::Path) -> Result<Vec<String>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let (out, changed) = prepare(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if changed.is_empty() {
        return Ok(changed);
    }
    let tmp = path.with_extension(format!("json.tcmu-mmc.{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(out.as_bytes())?;
        f.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            // targetcli keeps the file root-only (it may hold CHAP secrets): so do we.
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAVED: &str = r#"{
  "fabric_modules": [],
  "storage_objects": [
    {
      "attributes": { "cmd_time_out": 30, "nl_reply_supported": 0 },
      "config": "fbo//srv/a.iso",
      "control": "max_data_area_mb=1024,hw_block_size=2048",
      "name": "fb0",
      "plugin": "user",
      "size": 1048576
    },
    {
      "attributes": { "cmd_time_out": 30, "nl_reply_supported": 0 },
      "config": "mmc//srv/b.iso;type=dvd+r",
      "control": "max_data_area_mb=1024,hw_block_size=2048,data_pages_per_blk=1",
      "name": "dvd0",
      "plugin": "user",
      "size": 4700372992
    },
    { "dev": "/srv/c.img", "name": "f0", "plugin": "fileio", "size": 1048576 }
  ],
  "targets": []
}"#;

    fn object<'a>(v: &'a Value, name: &str) -> &'a Value {
        v["storage_objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
    }

    #[test]
    fn only_mmc_backstores_get_no_reply_wait() {
        let (out, changed) = prepare(SAVED).unwrap();
        assert_eq!(changed, ["dvd0"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        let dvd = object(&v, "dvd0");
        assert_eq!(
            dvd["control"],
            "max_data_area_mb=1024,hw_block_size=2048,data_pages_per_blk=1,nl_reply_supported=-1"
        );
        assert_eq!(dvd["attributes"]["nl_reply_supported"], -1);
        // runner's fbo and LIO's fileio stay as they were.
        let before: Value = serde_json::from_str(SAVED).unwrap();
        assert_eq!(object(&v, "fb0"), object(&before, "fb0"));
        assert_eq!(object(&v, "f0"), object(&before, "f0"));
        // Key order is kept (rtslib does not care; people reading the file do).
        assert!(out.find("\"fabric_modules\"").unwrap() < out.find("\"storage_objects\"").unwrap());
        assert!(out.find("\"attributes\"").unwrap() < out.find("\"config\"").unwrap());
    }

    #[test]
    fn preparing_twice_changes_nothing_the_second_time() {
        let (once, _) = prepare(SAVED).unwrap();
        let (twice, changed) = prepare(&once).unwrap();
        assert!(changed.is_empty());
        assert_eq!(twice, once);
    }

    #[test]
    fn another_nl_reply_setting_is_replaced_and_a_missing_control_added() {
        assert_eq!(
            with_no_reply_wait("nl_reply_supported=1,hw_block_size=2048"),
            "hw_block_size=2048,nl_reply_supported=-1"
        );
        assert_eq!(with_no_reply_wait(""), "nl_reply_supported=-1");
        let text = r#"{"storage_objects":[{"plugin":"user","config":"mmc//x.iso","name":"a"}]}"#;
        let (out, changed) = prepare(text).unwrap();
        assert_eq!(changed, ["a"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(object(&v, "a")["control"], "nl_reply_supported=-1");
    }

    #[test]
    fn what_is_not_a_saveconfig_file_is_refused_with_the_reason() {
        assert!(matches!(prepare("{"), Err(PrepareError::Json(_))));
        let e = prepare(r#"{"storage_objects": 3}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not a targetcli saveconfig file: storage_objects is not a list"
        );
        let e = prepare(r#"{"storage_objects":[{"plugin":"user","config":"mmc//x","control":7}]}"#)
            .unwrap_err();
        assert!(e.to_string().contains("control"), "{e}");
        // No backstores at all: nothing to do.
        assert_eq!(prepare(r#"{"targets": []}"#).unwrap().1.len(), 0);
    }

    #[test]
    fn a_file_is_prepared_in_place_and_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tcmu-mmc-saveconfig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("saveconfig.json");
        std::fs::write(&path, SAVED).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(prepare_file(&path).unwrap(), ["dvd0"]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("nl_reply_supported=-1"));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(prepare_file(&path).unwrap().is_empty());
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary left"
        );
        assert!(prepare_file(&dir.join("missing.json")).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
