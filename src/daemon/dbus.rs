//! targetcli integration over the system D-Bus, the contract tcmu-runner defined: the
//! `org.kernel.TCMUService1` service with an ObjectManager at `/org/kernel/TCMUService1` and one
//! handler object, `.../mmc`, carrying `ConfigDesc`, `CheckConfig` and `ChangeMedium` (which
//! targetcli's `changemedium` calls; tcmu-runner never implemented it). When tcmu-runner owns
//! the name already, the handler registers through its `HandlerManager1.RegisterHandler`
//! instead, so `user:mmc` still appears (without `changemedium`, which runner does not proxy).
//!
//! `ChangeMedium` changes state: it answers `org.freedesktop.DBus.Error.AccessDenied` (and logs
//! it) unless the caller's uid, which the bus tells (`GetConnectionUnixUser`), is 0, or polkit
//! authorises `org.kernel.tcmu-mmc.change-medium` for it. `CheckConfig` and the properties stay
//! open to every local user.
//!
//! The bus is optional: without one the daemon serves drives as usual and keeps trying to
//! connect in the background, so starting D-Bus later still brings the integration up.
use std::path::{Path, PathBuf};
use std::time::Duration;

use zbus::blocking::Connection;

use std::sync::Arc;

use super::configfs::{self, attrib, Backstore};
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
    "  ;type=dvd+r|dvd+r-dl|dvd-r|dvd-r-dl|dvd+rw|dvd-ram|dvd-rw|cd-rw   what an empty file is\n",
    "  ;capacity=<blocks>|<n>M|<n>G   capacity of that blank disc\n",
    "  ;morph=close            closing a DVD+R session makes it a DVD-ROM (tgt's behaviour)\n",
    "  ;offline                empty tray, image kept (drop it to bring the disc back)\n",
    "An empty path, or a missing file, is an empty tray. Options contain '=': give them as\n",
    "cfgstring=/path;type=dvd+rw. `changemedium NAME SIZE CFGSTRING` swaps the disc of a\n",
    "live drive; the host sees the media change."
);

/// The handler object: `CheckConfig` and `ChangeMedium`.
#[derive(Clone)]
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

    /// Swap the disc of the live drive `name`: 0 and a description, or -errno and why. Only
    /// root, or a caller polkit authorises for [`CHANGE_MEDIUM_ACTION`], may: the daemon runs
    /// as root and would open any file as a disc for whoever reads the drive.
    async fn change_medium(
        &self,
        name: &str,
        size: u64,
        config: &str,
        #[zbus(header)] header: zbus::message::Header<'_>,
        #[zbus(connection)] conn: &zbus::Connection,
    ) -> zbus::fdo::Result<(i32, String)> {
        let caller = caller_of(&header);
        let allowed = match &caller {
            Some(sender) => authorize_sender(conn, sender).await,
            None => Err(Refusal::NoSender),
        };
        let who = caller.as_deref().unwrap_or("an anonymous caller");
        match allowed {
            Ok(by) => log::info!("ChangeMedium {name} from {who}: allowed ({by})"),
            Err(why) => {
                log::warn!("ChangeMedium {name} {config:?} from {who} refused: {why}");
                return Err(zbus::fdo::Error::AccessDenied(format!(
                    "ChangeMedium refused: {why}"
                )));
            }
        }
        Ok(
            match change_medium(&self.configfs, &self.roots, name, size, config) {
                Ok(what) => {
                    log::info!("ChangeMedium {name}: {config:?}");
                    (0, what)
                }
                Err((errno, why)) => {
                    log::warn!("ChangeMedium {name} {config:?} failed: {why}");
                    (-errno, why)
                }
            },
        )
    }
}

/// The polkit action a non-root caller needs for a state-changing method (`ChangeMedium`);
/// `polkit/org.kernel.tcmu-mmc.policy` defines it (administrators only by default).
pub const CHANGE_MEDIUM_ACTION: &str = "org.kernel.tcmu-mmc.change-medium";
const POLKIT_SERVICE: &str = "org.freedesktop.PolicyKit1";
const POLKIT_PATH: &str = "/org/freedesktop/PolicyKit1/Authority";
const POLKIT_IFACE: &str = "org.freedesktop.PolicyKit1.Authority";
/// CheckAuthorization flag: an authentication agent may ask the user (auth_admin).
const POLKIT_ALLOW_USER_INTERACTION: u32 = 1;

/// Why a caller may change state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowedBy {
    Root,
    Polkit,
}

impl std::fmt::Display for AllowedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllowedBy::Root => write!(f, "uid 0"),
            AllowedBy::Polkit => write!(f, "polkit authorised {CHANGE_MEDIUM_ACTION}"),
        }
    }
}

/// What polkit answered about one caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolkitAnswer {
    Authorized,
    NotAuthorized,
    /// No polkit on the bus (neither running nor activatable).
    Absent,
    /// Polkit is there but the question failed.
    Failed(String),
}

/// Why a caller may not change state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The message named no sender (a peer-to-peer connection).
    NoSender,
    /// The bus could not say who the sender is.
    UnknownUser(String),
    NotAuthorized {
        uid: u32,
    },
    NoPolkit {
        uid: u32,
    },
    PolkitFailed {
        uid: u32,
        why: String,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NoSender => write!(f, "the call names no sender"),
            Refusal::UnknownUser(why) => write!(f, "the bus cannot say who the caller is: {why}"),
            Refusal::NotAuthorized { uid } => write!(
                f,
                "uid {uid} is not root and polkit does not authorise {CHANGE_MEDIUM_ACTION}"
            ),
            Refusal::NoPolkit { uid } => write!(
                f,
                "uid {uid} is not root (and there is no polkit to authorise {CHANGE_MEDIUM_ACTION})"
            ),
            Refusal::PolkitFailed { uid, why } => write!(
                f,
                "uid {uid} is not root and polkit could not be asked about {CHANGE_MEDIUM_ACTION}: {why}"
            ),
        }
    }
}

/// The decision, apart from the bus: root may; anyone else only if polkit says so (asked only
/// then).
pub fn authorize(
    uid: Result<u32, String>,
    ask_polkit: impl FnOnce() -> PolkitAnswer,
) -> Result<AllowedBy, Refusal> {
    let uid = uid.map_err(Refusal::UnknownUser)?;
    if uid == 0 {
        return Ok(AllowedBy::Root);
    }
    match ask_polkit() {
        PolkitAnswer::Authorized => Ok(AllowedBy::Polkit),
        PolkitAnswer::NotAuthorized => Err(Refusal::NotAuthorized { uid }),
        PolkitAnswer::Absent => Err(Refusal::NoPolkit { uid }),
        PolkitAnswer::Failed(why) => Err(Refusal::PolkitFailed { uid, why }),
    }
}

/// The unique bus name that sent the call.
fn caller_of(header: &zbus::message::Header<'_>) -> Option<String> {
    header.sender().map(|s| s.to_string())
}

/// Ask the bus for the sender's uid, and polkit when it is not root.
async fn authorize_sender(conn: &zbus::Connection, sender: &str) -> Result<AllowedBy, Refusal> {
    let uid = unix_user(conn, sender).await;
    let polkit = if matches!(uid, Ok(u) if u != 0) {
        Some(ask_polkit(conn, sender).await)
    } else {
        None
    };
    authorize(uid, move || polkit.unwrap_or(PolkitAnswer::Absent))
}

async fn unix_user(conn: &zbus::Connection, sender: &str) -> Result<u32, String> {
    let name = zbus::names::BusName::try_from(sender).map_err(|e| e.to_string())?;
    let bus = zbus::fdo::DBusProxy::new(conn)
        .await
        .map_err(|e| e.to_string())?;
    bus.get_connection_unix_user(name)
        .await
        .map_err(|e| e.to_string())
}

/// polkit's CheckAuthorization for `sender` (a system-bus-name subject), if polkit is running
/// or can be started on this bus.
async fn ask_polkit(conn: &zbus::Connection, sender: &str) -> PolkitAnswer {
    use std::collections::HashMap;
    use zbus::zvariant::Value;
    let present = async {
        let bus = zbus::fdo::DBusProxy::new(conn).await?;
        let name = zbus::names::BusName::try_from(POLKIT_SERVICE)?;
        if bus.name_has_owner(name).await? {
            return Ok::<bool, zbus::Error>(true);
        }
        let activatable = bus.list_activatable_names().await?;
        Ok(activatable.iter().any(|n| n.as_str() == POLKIT_SERVICE))
    };
    match present.await {
        Ok(true) => {}
        Ok(false) => return PolkitAnswer::Absent,
        Err(e) => return PolkitAnswer::Failed(e.to_string()),
    }
    let subject_details: HashMap<&str, Value<'_>> = HashMap::from([("name", Value::from(sender))]);
    let subject = ("system-bus-name", subject_details);
    let details: HashMap<&str, &str> = HashMap::new();
    let reply = conn
        .call_method(
            Some(POLKIT_SERVICE),
            POLKIT_PATH,
            Some(POLKIT_IFACE),
            "CheckAuthorization",
            &(
                subject,
                CHANGE_MEDIUM_ACTION,
                details,
                POLKIT_ALLOW_USER_INTERACTION,
                "",
            ),
        )
        .await;
    let answer = reply.and_then(|m| {
        m.body()
            .deserialize::<((bool, bool, HashMap<String, String>),)>()
            .map(|(r,)| r)
    });
    match answer {
        Ok((true, _, _)) => PolkitAnswer::Authorized,
        Ok((false, _, _)) => PolkitAnswer::NotAuthorized,
        Err(e) => PolkitAnswer::Failed(e.to_string()),
    }
}

/// The `mmc` backstore called `name`.
fn find_backstore(configfs: &Path, name: &str) -> Result<Backstore, (i32, String)> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err((
            libc::EINVAL,
            format!("{name:?} is not a storage object name"),
        ));
    }
    let mut found: Vec<Backstore> = configfs::backstores_named(configfs, name)
        .into_iter()
        .filter(|d| {
            d.dev_config()
                .is_some_and(|c| c.split('/').next() == Some(SUBTYPE))
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
    let store = find_backstore(configfs, name)?;
    let write = |attr: &str, value: &str| {
        store.write_attrib(attr, value).map_err(|e| {
            (
                e.raw_os_error().unwrap_or(libc::EIO),
                format!("the kernel refused {attr}={value:?} for {name}: {e}"),
            )
        })
    };
    write(attrib::DEV_CONFIG, config)?;
    if size != 0 {
        write(attrib::DEV_SIZE, &size.to_string())?;
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

/// How often the D-Bus thread looks whether the service name should change hands.
const HANDOVER_POLL: Duration = Duration::from_secs(2);

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
    let handler = Handler { configfs, roots };
    let mut role = match publish(&conn, &handler) {
        Ok(role) => role,
        Err(e) => {
            log::warn!("D-Bus: {e}; targetcli integration is off");
            return;
        }
    };
    // The connection's own executor answers calls. This thread keeps the name where it
    // belongs: tcmu-runner (its systemd unit waits for it to own the name) gets it when it
    // starts after us, and we register through whichever runner owns it now.
    loop {
        std::thread::sleep(HANDOVER_POLL);
        let Some(change) = handover_needed(&conn, &role) else {
            continue;
        };
        log::info!("D-Bus: {change}");
        withdraw(&conn);
        if matches!(role, Role::Owner) {
            // Let the waiting daemon take the name before registering with it.
            for _ in 0..50 {
                if owner_of(&conn, SERVICE).is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        role = match publish(&conn, &handler) {
            Ok(role) => role,
            Err(e) => {
                log::warn!("D-Bus: {e}; targetcli integration is off until the name changes hands");
                Role::Off(owner_of(&conn, SERVICE))
            }
        };
    }
}

/// How the handler is on the bus.
enum Role {
    /// Owning the service name.
    Owner,
    /// Registered through the daemon that owns it (its unique connection name).
    Registered(String),
    /// Neither (publishing failed while this connection owned the name): retried when the
    /// name changes hands.
    Off(Option<String>),
}

fn owner_of(conn: &Connection, name: &str) -> Option<String> {
    let name = zbus::names::BusName::try_from(name).ok()?;
    zbus::blocking::fdo::DBusProxy::new(conn)
        .ok()?
        .get_name_owner(name)
        .ok()
        .map(|n| n.to_string())
}

/// What changed so that the handler must be published again, if anything: another daemon
/// waits for the name we own, or the daemon we registered with is gone or replaced.
fn handover_needed(conn: &Connection, role: &Role) -> Option<String> {
    let owner = owner_of(conn, SERVICE);
    match role {
        Role::Owner => {
            let queued = zbus::blocking::fdo::DBusProxy::new(conn)
                .ok()?
                .list_queued_owners(zbus::names::WellKnownName::try_from(SERVICE).ok()?)
                .ok()?;
            (queued.len() > 1).then(|| {
                format!(
                    "another daemon ({}, tcmu-runner?) waits for {SERVICE}: handing the name over \
                     and registering through it",
                    queued[1]
                )
            })
        }
        Role::Registered(with) => match owner {
            None => Some(format!("{SERVICE} has no owner any more: taking it")),
            Some(o) if o != *with => Some(format!(
                "{SERVICE} has a new owner ({o}): registering again"
            )),
            Some(_) => None,
        },
        Role::Off(was) => (owner != *was).then(|| format!("{SERVICE} changed hands: trying again")),
    }
}

/// Take the handler off the bus: its objects and names.
fn withdraw(conn: &Connection) {
    let server = conn.object_server();
    let _ = server.remove::<Handler, _>(format!("{ROOT_PATH}/{SUBTYPE}").as_str());
    let _ = server.remove::<zbus::fdo::ObjectManager, _>(ROOT_PATH);
    let _ = server.remove::<Handler, _>(format!("{MANAGER_PATH}/{SUBTYPE}").as_str());
    let _ = conn.release_name(SERVICE);
    let _ = conn.release_name(format!("{MANAGER_IFACE}.{SUBTYPE}"));
}

/// Own the service name, or register with the tcmu-runner that owns it.
fn publish(conn: &Connection, handler: &Handler) -> Result<Role, String> {
    let server = conn.object_server();
    server
        .at(ROOT_PATH, zbus::fdo::ObjectManager)
        .map_err(|e| e.to_string())?;
    let handler_path = format!("{ROOT_PATH}/{SUBTYPE}");
    server
        .at(handler_path.as_str(), handler.clone())
        .map_err(|e| e.to_string())?;
    // Not queued: if the name is owned, fall back to registering with its owner now.
    let not_queued = zbus::fdo::RequestNameFlags::DoNotQueue.into();
    match conn.request_name_with_flags(SERVICE, not_queued) {
        Ok(_) => {
            log::info!("D-Bus: serving {SERVICE} at {handler_path}");
            return Ok(Role::Owner);
        }
        Err(zbus::Error::NameTaken) => {}
        Err(e) => return Err(format!("cannot own {SERVICE}: {e}")),
    }
    // tcmu-runner (or another handler daemon) owns the name: register through it.
    let _ = server.remove::<Handler, _>(handler_path.as_str());
    let _ = server.remove::<zbus::fdo::ObjectManager, _>(ROOT_PATH);
    let own_path = format!("{MANAGER_PATH}/{SUBTYPE}");
    server
        .at(own_path.as_str(), handler.clone())
        .map_err(|e| e.to_string())?;
    let own_name = format!("{MANAGER_IFACE}.{SUBTYPE}");
    conn.request_name_with_flags(own_name.as_str(), not_queued)
        .map_err(|e| format!("cannot own {own_name}: {e}"))?;
    let owner = owner_of(conn, SERVICE).unwrap_or_default();
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
        log::info!(
            "D-Bus: {SERVICE} is owned by another daemon ({owner}, tcmu-runner?): registered \
             handler {SUBTYPE} through its HandlerManager1 (changemedium is not available that way)"
        );
        Ok(Role::Registered(owner))
    } else {
        Err(format!("RegisterHandler refused: {msg}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn change_medium_writes_the_kernel_configuration() {
        let root = configfs::fake::root("dbus");
        let dev = configfs::fake::backstore(&root, 2, "dvd0", "mmc//old.iso\n");
        let iso = root.join("new.iso");
        fs::write(&iso, vec![0u8; 4096]).unwrap();
        let cfg = format!("mmc/{}", iso.display());
        let any = MediaRoots::anywhere();

        let what = change_medium(&root, &any, "dvd0", 4096, &cfg).unwrap();
        assert!(what.contains("dvd-rom"), "{what}");
        assert_eq!(dev.read_attrib(attrib::DEV_CONFIG).unwrap(), cfg);
        assert_eq!(dev.read_attrib(attrib::DEV_SIZE).unwrap(), "4096");

        let (errno, why) = change_medium(&root, &any, "dvd9", 0, &cfg).unwrap_err();
        assert_eq!(errno, libc::ENODEV);
        assert!(why.contains("dvd9"), "{why}");
        let (errno, why) = change_medium(&root, &any, "dvd0", 0, "mmc//x;speed=4").unwrap_err();
        assert_eq!(errno, libc::EINVAL);
        assert!(why.contains("speed"), "{why}");
        // Refused strings leave the configuration alone.
        assert_eq!(dev.read_attrib(attrib::DEV_CONFIG).unwrap(), cfg);
        assert!(change_medium(&root, &any, "../x", 0, &cfg).is_err());
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn only_root_or_polkit_may_change_state() {
        // Root needs no polkit, and polkit is not even asked.
        let asked = std::cell::Cell::new(false);
        let ask = || {
            asked.set(true);
            PolkitAnswer::NotAuthorized
        };
        assert_eq!(authorize(Ok(0), ask), Ok(AllowedBy::Root));
        assert!(!asked.get());
        // Anyone else: polkit decides.
        assert_eq!(
            authorize(Ok(1000), || PolkitAnswer::Authorized),
            Ok(AllowedBy::Polkit)
        );
        assert_eq!(
            authorize(Ok(65534), || PolkitAnswer::NotAuthorized),
            Err(Refusal::NotAuthorized { uid: 65534 })
        );
        assert_eq!(
            authorize(Ok(65534), || PolkitAnswer::Absent),
            Err(Refusal::NoPolkit { uid: 65534 })
        );
        let failed = authorize(Ok(1000), || PolkitAnswer::Failed("timeout".into()));
        assert_eq!(
            failed,
            Err(Refusal::PolkitFailed {
                uid: 1000,
                why: "timeout".into()
            })
        );
        // Not knowing who asks is a refusal, without asking polkit.
        asked.set(false);
        let unknown = authorize(Err("no such name".into()), || {
            asked.set(true);
            PolkitAnswer::Authorized
        });
        assert_eq!(unknown, Err(Refusal::UnknownUser("no such name".into())));
        assert!(!asked.get());
        // The refusal says who and what.
        let why = Refusal::NotAuthorized { uid: 65534 }.to_string();
        assert!(
            why.contains("65534") && why.contains(CHANGE_MEDIUM_ACTION),
            "{why}"
        );
    }

    #[test]
    fn media_dirs_bind_change_medium_and_dev_config_alike() {
        let root = configfs::fake::root("dbus-roots");
        let media_dir = root.join("media");
        let elsewhere = root.join("elsewhere");
        fs::create_dir_all(&media_dir).unwrap();
        fs::create_dir_all(&elsewhere).unwrap();
        let inside = media_dir.join("in.iso");
        let outside = elsewhere.join("secret");
        fs::write(&inside, vec![0u8; 4096]).unwrap();
        fs::write(&outside, vec![7u8; 4096]).unwrap();
        let link = media_dir.join("link.iso");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let cfg_in = format!("mmc/{}", inside.display());
        let dev = configfs::fake::backstore(&root, 4, "dvd0", &cfg_in);
        let roots = MediaRoots::new(std::slice::from_ref(&media_dir)).unwrap();

        for bad in [&outside, &link] {
            let cfg = format!("mmc/{}", bad.display());
            // ChangeMedium refuses it and leaves the kernel's configuration alone ...
            let (errno, why) = change_medium(&root, &roots, "dvd0", 0, &cfg).unwrap_err();
            assert_eq!(errno, libc::EINVAL);
            assert!(why.contains("outside the media directories"), "{why}");
            assert_eq!(dev.read_attrib(attrib::DEV_CONFIG).unwrap(), cfg_in);
            // ... and the same string arriving as dev_config (RECONFIG, attach) is no disc.
            let parsed = media::MediaConfig::parse(&cfg).unwrap();
            match media::load_within(&parsed, &roots) {
                media::Loaded::Empty(why) => {
                    assert!(why.contains("outside the media directories"), "{why}")
                }
                media::Loaded::Disc(_) => panic!("{} was loaded from outside", bad.display()),
            }
        }
        // Inside is fine on both paths.
        assert!(change_medium(&root, &roots, "dvd0", 0, &cfg_in).is_ok());
        let parsed = media::MediaConfig::parse(&cfg_in).unwrap();
        assert!(matches!(
            media::load_within(&parsed, &roots),
            media::Loaded::Disc(_)
        ));
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn config_desc_names_every_option() {
        for opt in ["type=", "capacity=", "morph=close", "offline"] {
            assert!(CONFIG_DESC.contains(opt), "{opt}");
        }
    }
}
