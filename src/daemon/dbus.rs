//! targetcli integration over the system D-Bus, the contract tcmu-runner defined: the
//! `org.kernel.TCMUService1` service with an ObjectManager at `/org/kernel/TCMUService1` and one
//! handler object, `.../mmc`, carrying `ConfigDesc`, `CheckConfig` and `ChangeMedium` (which
//! targetcli's `changemedium` calls; tcmu-runner never implemented it). When tcmu-runner owns
//! the name already, the handler registers through its `HandlerManager1.RegisterHandler`
//! instead, so `user:mmc` still appears (without `changemedium`, which runner does not proxy).
//!
//! The bus is optional: without one the daemon serves drives as usual and keeps trying to
//! connect in the background, so starting D-Bus later still brings the integration up.
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use zbus::blocking::Connection;

use std::sync::Arc;

use crate::media::{self, config::SUBTYPE, MediaRoots};

pub const SERVICE: &str = "org.kernel.TCMUService1";
const ROOT_PATH: &str = "/org/kernel/TCMUService1";
const MANAGER_PATH: &str = "/org/kernel/TCMUService1/HandlerManager1";
const MANAGER_IFACE: &str = "org.kernel.TCMUService1.HandlerManager1";

/// What targetcli prints under "CFGSTRING FORMAT" for `create`.
pub const CONFIG_DESC: &str = concat!(
    "Path to an image file, then optional ';'-separated options:\n",
    "  /srv/media/disc.iso     a file with data is a DVD-ROM\n",
    "  /srv/media/blank.img    an empty file is a blank DVD+R (burn it with growisofs, wodim ...)\n",
    "  ;type=dvd+r|dvd+r-dl|dvd+rw|dvd-ram|dvd-rw|cd-rw   what an empty file is\n",
    "  ;capacity=<blocks>|<n>M|<n>G   capacity of that blank disc\n",
    "  ;morph=close            closing a DVD+R session makes it a DVD-ROM (tgt's behaviour)\n",
    "  ;offline                empty tray, image kept (drop it to bring the disc back)\n",
    "An empty path, or a missing file, is an empty tray. Options contain '=': give them as\n",
    "cfgstring=/path;type=dvd+rw. `changemedium NAME SIZE CFGSTRING` swaps the disc of a\n",
    "live drive; the host sees the media change."
);

/// The handler object: `CheckConfig` and `ChangeMedium`.
struct Handler {
    configfs: PathBuf,
    roots: Arc<MediaRoots>,
}

#[zbus::interface(name = "org.kernel.TCMUService1")]
impl Handler {
    #[zbus(property)]
    fn config_desc(&self) -> String {
        CONFIG_DESC.to_owned()
    }

    /// targetcli passes the full `mmc/<cfgstring>`.
    fn check_config(&self, config: &str) -> (bool, String) {
        match media::check_config(config, &self.roots) {
            Ok(what) => (true, what),
            Err(why) => {
                log::info!("CheckConfig {config:?} refused: {why}");
                (false, why)
            }
        }
    }

    /// Swap the disc of the live drive `name`: 0 and a description, or -errno and why.
    fn change_medium(&self, name: &str, size: u64, config: &str) -> (i32, String) {
        match change_medium(&self.configfs, &self.roots, name, size, config) {
            Ok(what) => {
                log::info!("ChangeMedium {name}: {config:?}");
                (0, what)
            }
            Err((errno, why)) => {
                log::warn!("ChangeMedium {name} {config:?} failed: {why}");
                (-errno, why)
            }
        }
    }
}

/// The configfs directory of the `mmc` backstore called `name`.
fn find_backstore(configfs: &Path, name: &str) -> Result<PathBuf, (i32, String)> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err((
            libc::EINVAL,
            format!("{name:?} is not a storage object name"),
        ));
    }
    let core = configfs.join("target/core");
    let mut found: Vec<PathBuf> = fs::read_dir(&core)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|h| h.file_name().to_string_lossy().starts_with("user_"))
        .map(|h| h.path().join(name))
        .filter(|d| {
            super::attach::read_dev_config(d).is_some_and(|c| c.split('/').next() == Some(SUBTYPE))
        })
        .collect();
    match found.len() {
        0 => Err((
            libc::ENODEV,
            format!("no {SUBTYPE} storage object named {name}"),
        )),
        1 => Ok(found.remove(0)),
        _ => Err((
            libc::EEXIST,
            format!("more than one {SUBTYPE} storage object is named {name}"),
        )),
    }
}

/// Give the live drive `name` the configuration `config` through the kernel (its
/// `dev_config`, which the kernel hands to the daemon and which saveconfig records), and its
/// `dev_size` when `size` is not 0.
pub fn change_medium(
    configfs: &Path,
    roots: &MediaRoots,
    name: &str,
    size: u64,
    config: &str,
) -> Result<String, (i32, String)> {
    let what = media::check_config(config, roots).map_err(|why| (libc::EINVAL, why))?;
    let dir = find_backstore(configfs, name)?;
    let write = |attr: &str, value: &str| {
        fs::write(dir.join("attrib").join(attr), value).map_err(|e| {
            (
                e.raw_os_error().unwrap_or(libc::EIO),
                format!("the kernel refused {attr}={value:?} for {name}: {e}"),
            )
        })
    };
    write("dev_config", config)?;
    if size != 0 {
        write("dev_size", &size.to_string())?;
    }
    Ok(format!("{name}: {what}"))
}

/// Start the D-Bus service on its own thread.
pub fn spawn(configfs: PathBuf, roots: Arc<MediaRoots>) {
    let spawned = std::thread::Builder::new()
        .name("dbus".into())
        .spawn(move || serve(configfs, roots));
    if let Err(e) = spawned {
        log::warn!("D-Bus: cannot start a thread: {e}; targetcli integration is off");
    }
}

fn serve(configfs: PathBuf, roots: Arc<MediaRoots>) {
    let mut told = false;
    let conn = loop {
        match Connection::system() {
            Ok(c) => break c,
            Err(e) => {
                if !told {
                    log::info!("no system D-Bus ({e}); targetcli integration waits for one");
                    told = true;
                }
                std::thread::sleep(Duration::from_secs(3));
            }
        }
    };
    match publish(&conn, Handler { configfs, roots }) {
        Ok(how) => log::info!("D-Bus: {how}"),
        Err(e) => {
            log::warn!("D-Bus: {e}; targetcli integration is off");
            return;
        }
    }
    // The connection's own executor answers calls; keep it alive for the daemon's lifetime.
    loop {
        std::thread::park();
    }
}

/// Own the service name, or register with the tcmu-runner that owns it.
fn publish(conn: &Connection, handler: Handler) -> Result<String, String> {
    let server = conn.object_server();
    server
        .at(ROOT_PATH, zbus::fdo::ObjectManager)
        .map_err(|e| e.to_string())?;
    let handler_path = format!("{ROOT_PATH}/{SUBTYPE}");
    server
        .at(
            handler_path.as_str(),
            Handler {
                configfs: handler.configfs.clone(),
                roots: handler.roots.clone(),
            },
        )
        .map_err(|e| e.to_string())?;
    // Not queued: if the name is owned, fall back to registering with its owner now.
    let not_queued = zbus::fdo::RequestNameFlags::DoNotQueue.into();
    match conn.request_name_with_flags(SERVICE, not_queued) {
        Ok(_) => return Ok(format!("serving {SERVICE} at {handler_path}")),
        Err(zbus::Error::NameTaken) => {}
        Err(e) => return Err(format!("cannot own {SERVICE}: {e}")),
    }
    // tcmu-runner (or another handler daemon) owns the name: register through it.
    let _ = server.remove::<Handler, _>(handler_path.as_str());
    let _ = server.remove::<zbus::fdo::ObjectManager, _>(ROOT_PATH);
    let own_path = format!("{MANAGER_PATH}/{SUBTYPE}");
    server
        .at(own_path.as_str(), handler)
        .map_err(|e| e.to_string())?;
    let own_name = format!("{MANAGER_IFACE}.{SUBTYPE}");
    conn.request_name_with_flags(own_name.as_str(), not_queued)
        .map_err(|e| format!("cannot own {own_name}: {e}"))?;
    let reply = conn
        .call_method(
            Some(SERVICE),
            MANAGER_PATH,
            Some(MANAGER_IFACE),
            "RegisterHandler",
            &(SUBTYPE, CONFIG_DESC),
        )
        .map_err(|e| format!("{SERVICE} is taken and RegisterHandler failed: {e}"))?;
    let (ok, msg): (bool, String) = reply.body().deserialize().map_err(|e| e.to_string())?;
    if ok {
        Ok(format!(
            "{SERVICE} is owned by another daemon (tcmu-runner?): registered handler \
             {SUBTYPE} through its HandlerManager1 (changemedium is not available that way)"
        ))
    } else {
        Err(format!("RegisterHandler refused: {msg}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_medium_writes_the_kernel_configuration() {
        let root = std::env::temp_dir().join(format!("tcmu-mmc-dbus-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let dev = root.join("target/core/user_2/dvd0/attrib");
        fs::create_dir_all(&dev).unwrap();
        fs::write(dev.join("dev_config"), "mmc//old.iso\n").unwrap();
        let iso = root.join("new.iso");
        fs::write(&iso, vec![0u8; 4096]).unwrap();
        let cfg = format!("mmc/{}", iso.display());
        let any = MediaRoots::anywhere();

        let what = change_medium(&root, &any, "dvd0", 4096, &cfg).unwrap();
        assert!(what.contains("dvd-rom"), "{what}");
        assert_eq!(fs::read_to_string(dev.join("dev_config")).unwrap(), cfg);
        assert_eq!(fs::read_to_string(dev.join("dev_size")).unwrap(), "4096");

        let (errno, why) = change_medium(&root, &any, "dvd9", 0, &cfg).unwrap_err();
        assert_eq!(errno, libc::ENODEV);
        assert!(why.contains("dvd9"), "{why}");
        let (errno, why) = change_medium(&root, &any, "dvd0", 0, "mmc//x;speed=4").unwrap_err();
        assert_eq!(errno, libc::EINVAL);
        assert!(why.contains("speed"), "{why}");
        // Refused strings leave the configuration alone.
        assert_eq!(fs::read_to_string(dev.join("dev_config")).unwrap(), cfg);
        assert!(change_medium(&root, &any, "../x", 0, &cfg).is_err());
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn config_desc_names_every_option() {
        for opt in ["type=", "capacity=", "morph=close", "offline"] {
            assert!(CONFIG_DESC.contains(opt), "{opt}");
        }
    }
}
