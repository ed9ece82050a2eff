//! Device hot-plug: the kernel's uevent netlink socket (the one udev itself reads), filtered to
//! the `uio` subsystem. Reading the kernel's messages directly means the daemon works the same
//! with or without udevd running, and needs no libudev.
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::sys::socket::{
    bind, recv, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};

/// The action of the synthetic event [`UeventMonitor::drain`] reports when messages were lost.
pub const OVERFLOW: &str = "overflow";

pub struct UeventMonitor {
    fd: OwnedFd,
    buf: Vec<u8>,
}

/// One uevent's action and devpath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uevent {
    pub action: String,
    pub devpath: String,
    pub subsystem: String,
}

impl UeventMonitor {
    pub fn open() -> io::Result<Self> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Datagram,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkKObjectUEvent,
        )?;
        // Group 1: the kernel's own broadcasts.
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 1))?;
        Ok(UeventMonitor {
            fd,
            buf: vec![0; 16 * 1024],
        })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Read every queued message; the uio ones are returned.
    pub fn drain(&mut self) -> Vec<Uevent> {
        let mut events = Vec::new();
        loop {
            match recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty()) {
                Ok(0) => break,
                Ok(n) => {
                    if let Some(e) = parse(&self.buf[..n]).filter(|e| e.subsystem == "uio") {
                        events.push(e);
                    }
                }
                Err(nix::errno::Errno::EAGAIN) => break,
                Err(nix::errno::Errno::ENOBUFS) => {
                    // Messages were lost; report a synthetic event so the caller rescans.
                    events.push(Uevent {
                        action: OVERFLOW.into(),
                        devpath: String::new(),
                        subsystem: "uio".into(),
                    });
                }
                Err(e) => {
                    log::warn!("uevent socket: {e}");
                    break;
                }
            }
        }
        events
    }
}

/// Parse a kernel uevent: `action@devpath\0KEY=value\0...`.
pub fn parse(msg: &[u8]) -> Option<Uevent> {
    let mut fields = msg.split(|&b| b == 0).filter(|f| !f.is_empty());
    let head = std::str::from_utf8(fields.next()?).ok()?;
    head.split_once('@')?;
    let mut e = Uevent {
        action: String::new(),
        devpath: String::new(),
        subsystem: String::new(),
    };
    for f in fields {
        let Ok(s) = std::str::from_utf8(f) else {
            continue;
        };
        match s.split_once('=') {
            Some(("ACTION", v)) => e.action = v.to_owned(),
            Some(("DEVPATH", v)) => e.devpath = v.to_owned(),
            Some(("SUBSYSTEM", v)) => e.subsystem = v.to_owned(),
            _ => {}
        }
    }
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kernel_uevents() {
        let msg = b"add@/devices/virtual/uio/uio0\0ACTION=add\0DEVPATH=/devices/virtual/uio/uio0\0SUBSYSTEM=uio\0MAJOR=240\0MINOR=0\0DEVNAME=uio0\0SEQNUM=1234\0";
        let e = parse(msg).unwrap();
        assert_eq!(e.action, "add");
        assert_eq!(e.subsystem, "uio");
        assert_eq!(e.devpath, "/devices/virtual/uio/uio0");
        // udevd's re-broadcasts start with "libudev" and no '@'.
        assert!(parse(b"libudev\0\xfe\xed\xca\xfe").is_none());
        assert!(parse(b"").is_none());
    }
}
