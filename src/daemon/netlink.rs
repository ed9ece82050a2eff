//! The kernel's TCM-USER generic netlink family: we join its `config` multicast group, which
//! is how a write to a live device's `attrib/dev_config` reaches userspace (RECONFIG_DEVICE).
//! Without a member of that group the kernel refuses such a write (ESRCH); with one, the new
//! configuration is the drive's new medium.
//!
//! Once any handler (tcmu-runner does, at start) has told the kernel that handlers reply
//! (SET_FEATURES), every device created afterwards without `nl_reply_supported=-1` in its
//! `control` makes the kernel wait, uninterruptibly, for an `*_DONE` reply to its ADDED,
//! REMOVED and RECONFIG events: the `enable` write of a targetcli-made backstore hangs until
//! someone answers. The daemon answers for its own devices (subtype `mmc`) when the device
//! waits (its `attrib/nl_reply_supported` is above 0); replying to a device that does not
//! wait only makes the kernel log that it expected nothing.
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use tcmu_abi::{
    TCMU_ATTR_CMD_STATUS, TCMU_ATTR_DEVICE, TCMU_ATTR_DEVICE_ID, TCMU_ATTR_DEV_CFG,
    TCMU_ATTR_MINOR, TCMU_CMD_ADDED_DEVICE, TCMU_CMD_ADDED_DEVICE_DONE, TCMU_CMD_RECONFIG_DEVICE,
    TCMU_CMD_RECONFIG_DEVICE_DONE, TCMU_CMD_REMOVED_DEVICE, TCMU_CMD_REMOVED_DEVICE_DONE,
    TCMU_GENL_FAMILY_NAME, TCMU_GENL_FAMILY_VERSION, TCMU_GENL_MCGRP_CONFIG,
};

const NLMSG_HDRLEN: usize = 16;
const GENL_HDRLEN: usize = 4;
const NLA_HDRLEN: usize = 4;
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;

/// What the kernel announces about a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Added,
    Removed,
    Reconfig,
}

impl EventKind {
    fn from_cmd(cmd: u8) -> Option<Self> {
        match cmd {
            TCMU_CMD_ADDED_DEVICE => Some(EventKind::Added),
            TCMU_CMD_REMOVED_DEVICE => Some(EventKind::Removed),
            TCMU_CMD_RECONFIG_DEVICE => Some(EventKind::Reconfig),
            _ => None,
        }
    }

    /// The command that answers it.
    pub fn done_cmd(self) -> u8 {
        match self {
            EventKind::Added => TCMU_CMD_ADDED_DEVICE_DONE,
            EventKind::Removed => TCMU_CMD_REMOVED_DEVICE_DONE,
            EventKind::Reconfig => TCMU_CMD_RECONFIG_DEVICE_DONE,
        }
    }
}

/// A device event of the TCM-USER family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// The device's uio minor (`/dev/uio<minor>`).
    pub minor: Option<u32>,
    /// The uio name (before the change, for a RECONFIG).
    pub device: Option<String>,
    /// The kernel's index of the device, which a reply names.
    pub device_id: Option<u32>,
    /// The new `dev_config`, when that is what a RECONFIG changed.
    pub dev_config: Option<String>,
}

/// What one [`TcmuNetlink::drain`] read.
#[derive(Debug, Default)]
pub struct Drained {
    pub events: Vec<Event>,
    /// The socket overflowed (ENOBUFS): some events were lost.
    pub lost: bool,
}

pub struct TcmuNetlink {
    fd: OwnedFd,
    family: u16,
    buf: Vec<u8>,
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Iterate over the netlink attributes in `b`: (type, payload).
fn attrs(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if b.len() < NLA_HDRLEN {
            return None;
        }
        let len = usize::from(u16::from_ne_bytes([b[0], b[1]]));
        let kind = u16::from_ne_bytes([b[2], b[3]]) & 0x3fff;
        if len < NLA_HDRLEN || len > b.len() {
            return None;
        }
        let payload = &b[NLA_HDRLEN..len];
        b = &b[align4(len).min(b.len())..];
        Some((kind, payload))
    })
}

fn attr_string(p: &[u8]) -> String {
    String::from_utf8_lossy(p.split(|&c| c == 0).next().unwrap_or(&[])).into_owned()
}

fn attr_u32(p: &[u8]) -> Option<u32> {
    p.get(..4)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

fn put_attr(msg: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = NLA_HDRLEN + payload.len();
    msg.extend_from_slice(&(len as u16).to_ne_bytes());
    msg.extend_from_slice(&kind.to_ne_bytes());
    msg.extend_from_slice(payload);
    msg.resize(align4(msg.len()), 0);
}

/// Split a datagram into netlink messages: (type, payload after the netlink header).
fn messages(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if b.len() < NLMSG_HDRLEN {
            return None;
        }
        let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let kind = u16::from_ne_bytes([b[4], b[5]]);
        if len < NLMSG_HDRLEN || len > b.len() {
            return None;
        }
        let payload = &b[NLMSG_HDRLEN..len];
        b = &b[align4(len).min(b.len())..];
        Some((kind, payload))
    })
}

/// Parse one TCM-USER message (generic header + attributes) if it is a device event.
pub fn parse_event(genl: &[u8]) -> Option<Event> {
    if genl.len() < GENL_HDRLEN {
        return None;
    }
    let mut ev = Event {
        kind: EventKind::from_cmd(genl[0])?,
        minor: None,
        device: None,
        device_id: None,
        dev_config: None,
    };
    for (kind, p) in attrs(&genl[GENL_HDRLEN..]) {
        match kind {
            TCMU_ATTR_MINOR => ev.minor = attr_u32(p),
            TCMU_ATTR_DEVICE => ev.device = Some(attr_string(p)),
            TCMU_ATTR_DEVICE_ID => ev.device_id = attr_u32(p),
            TCMU_ATTR_DEV_CFG => ev.dev_config = Some(attr_string(p)),
            _ => {}
        }
    }
    Some(ev)
}

/// The `*_DONE` message that answers `kind` for the device `device_id` with `status` (0 or a
/// negative errno), for the family `family`.
fn done_message(family: u16, kind: EventKind, device_id: u32, status: i32) -> Vec<u8> {
    let mut msg = vec![0u8; NLMSG_HDRLEN];
    msg.extend_from_slice(&[kind.done_cmd(), TCMU_GENL_FAMILY_VERSION, 0, 0]);
    put_attr(&mut msg, TCMU_ATTR_CMD_STATUS, &status.to_ne_bytes());
    put_attr(&mut msg, TCMU_ATTR_DEVICE_ID, &device_id.to_ne_bytes());
    let len = msg.len() as u32;
    msg[0..4].copy_from_slice(&len.to_ne_bytes());
    msg[4..6].copy_from_slice(&family.to_ne_bytes());
    msg[6..8].copy_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    msg
}

impl TcmuNetlink {
    /// Resolve the TCM-USER family and join its `config` group. Fails when target_core_user
    /// is not loaded.
    pub fn open() -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_GENERIC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut nl = TcmuNetlink {
            fd,
            family: 0,
            buf: vec![0; 16 * 1024],
        };
        let (family, group) = nl.resolve()?;
        nl.family = family;
        let g = group;
        // SAFETY: setsockopt with a valid fd and a u32 option value of the right size.
        let rc = unsafe {
            libc::setsockopt(
                nl.fd.as_raw_fd(),
                libc::SOL_NETLINK,
                libc::NETLINK_ADD_MEMBERSHIP,
                (&g as *const u32).cast(),
                std::mem::size_of::<u32>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        nl.set_nonblocking()?;
        Ok(nl)
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn set_nonblocking(&self) -> io::Result<()> {
        let fd = self.fd.as_raw_fd();
        // SAFETY: fcntl on a valid descriptor.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        // SAFETY: as above.
        if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// CTRL_CMD_GETFAMILY "TCM-USER": the family id and the `config` group id.
    fn resolve(&mut self) -> io::Result<(u16, u32)> {
        let mut msg = vec![0u8; NLMSG_HDRLEN];
        msg.extend_from_slice(&[CTRL_CMD_GETFAMILY, 1, 0, 0]);
        put_attr(
            &mut msg,
            CTRL_ATTR_FAMILY_NAME,
            format!("{TCMU_GENL_FAMILY_NAME}\0").as_bytes(),
        );
        let len = msg.len() as u32;
        msg[0..4].copy_from_slice(&len.to_ne_bytes());
        msg[4..6].copy_from_slice(&GENL_ID_CTRL.to_ne_bytes());
        msg[6..8].copy_from_slice(&NLM_F_REQUEST.to_ne_bytes());
        // SAFETY: send(2) of an initialized buffer on a valid socket (to the kernel, pid 0).
        let n = unsafe { libc::send(self.fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: recv(2) into our buffer, bounded by its length.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                self.buf.as_mut_ptr().cast(),
                self.buf.len(),
                0,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let reply = &self.buf[..n as usize];
        for (kind, payload) in messages(reply) {
            if kind == NLMSG_ERROR {
                let code = payload
                    .get(..4)
                    .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                return Err(io::Error::from_raw_os_error(-code));
            }
            if payload.len() < GENL_HDRLEN {
                continue;
            }
            let mut family = None;
            let mut group = None;
            for (k, p) in attrs(&payload[GENL_HDRLEN..]) {
                match k {
                    CTRL_ATTR_FAMILY_ID => {
                        family = p.get(..2).map(|b| u16::from_ne_bytes([b[0], b[1]]))
                    }
                    CTRL_ATTR_MCAST_GROUPS => {
                        for (_, grp) in attrs(p) {
                            let mut name = None;
                            let mut id = None;
                            for (gk, gp) in attrs(grp) {
                                match gk {
                                    CTRL_ATTR_MCAST_GRP_NAME => name = Some(attr_string(gp)),
                                    CTRL_ATTR_MCAST_GRP_ID => id = attr_u32(gp),
                                    _ => {}
                                }
                            }
                            if name.as_deref() == Some(TCMU_GENL_MCGRP_CONFIG) {
                                group = id;
                            }
                        }
                    }
                    _ => {}
                }
            }
            if let (Some(f), Some(g)) = (family, group) {
                return Ok((f, g));
            }
        }
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            "TCM-USER family or its config group not found",
        ))
    }

    /// Answer `ev` with `status` (0, or a negative errno). Without a device id (a kernel that
    /// does not expect replies) there is nothing to answer.
    pub fn reply(&self, ev: &Event, status: i32) -> io::Result<()> {
        let Some(id) = ev.device_id else {
            return Ok(());
        };
        let msg = done_message(self.family, ev.kind, id, status);
        // SAFETY: send(2) of an initialized buffer on a valid socket (to the kernel, pid 0).
        let n = unsafe { libc::send(self.fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Read every queued event; the device events are returned, and whether the
    /// kernel dropped some because the socket was full.
    pub fn drain(&mut self) -> Drained {
        let mut out = Drained::default();
        loop {
            // SAFETY: recv(2) into our buffer, bounded by its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    0,
                )
            };
            if n < 0 {
                match io::Error::last_os_error().raw_os_error() {
                    // The kernel reports the overrun once; what is queued after it is intact.
                    Some(libc::ENOBUFS) => {
                        out.lost = true;
                        continue;
                    }
                    Some(libc::EINTR) => continue,
                    _ => break,
                }
            }
            if n == 0 {
                break;
            }
            for (kind, payload) in messages(&self.buf[..n as usize]) {
                if kind == self.family {
                    out.events.extend(parse_event(payload));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_events_are_parsed() {
        let mut genl = vec![TCMU_CMD_RECONFIG_DEVICE, 2, 0, 0];
        put_attr(&mut genl, TCMU_ATTR_DEVICE, b"tcm-user/0/dvd0/mmc//a.iso\0");
        put_attr(&mut genl, TCMU_ATTR_MINOR, &3u32.to_ne_bytes());
        put_attr(&mut genl, TCMU_ATTR_DEVICE_ID, &17u32.to_ne_bytes());
        put_attr(&mut genl, TCMU_ATTR_DEV_CFG, b"mmc//b.iso\0");
        let r = parse_event(&genl).unwrap();
        assert_eq!(r.kind, EventKind::Reconfig);
        assert_eq!(r.minor, Some(3));
        assert_eq!(r.device_id, Some(17));
        assert_eq!(r.device.as_deref(), Some("tcm-user/0/dvd0/mmc//a.iso"));
        assert_eq!(r.dev_config.as_deref(), Some("mmc//b.iso"));
        genl[0] = TCMU_CMD_ADDED_DEVICE;
        assert_eq!(parse_event(&genl).unwrap().kind, EventKind::Added);
        genl[0] = TCMU_CMD_REMOVED_DEVICE;
        assert_eq!(parse_event(&genl).unwrap().kind, EventKind::Removed);
        // Replies, other commands, truncated attributes and short messages are ignored safely.
        genl[0] = TCMU_CMD_ADDED_DEVICE_DONE;
        assert!(parse_event(&genl).is_none());
        assert!(parse_event(&[3]).is_none());
        let r = parse_event(&[3, 2, 0, 0, 200, 0, 4, 0, 1]).unwrap();
        assert_eq!(r.dev_config, None);
    }

    #[test]
    fn a_reply_names_the_done_command_the_device_and_the_status() {
        let msg = done_message(0x1a, EventKind::Added, 42, -19);
        let (kind, genl) = messages(&msg).next().unwrap();
        assert_eq!(kind, 0x1a);
        assert_eq!(
            &genl[..2],
            &[TCMU_CMD_ADDED_DEVICE_DONE, TCMU_GENL_FAMILY_VERSION]
        );
        let got: Vec<(u16, Vec<u8>)> = attrs(&genl[GENL_HDRLEN..])
            .map(|(k, p)| (k, p.to_vec()))
            .collect();
        assert_eq!(
            got,
            vec![
                (TCMU_ATTR_CMD_STATUS, (-19i32).to_ne_bytes().to_vec()),
                (TCMU_ATTR_DEVICE_ID, 42u32.to_ne_bytes().to_vec()),
            ]
        );
        assert_eq!(
            done_message(1, EventKind::Removed, 0, 0)[16],
            TCMU_CMD_REMOVED_DEVICE_DONE
        );
        assert_eq!(
            done_message(1, EventKind::Reconfig, 0, 0)[16],
            TCMU_CMD_RECONFIG_DEVICE_DONE
        );
    }
}
