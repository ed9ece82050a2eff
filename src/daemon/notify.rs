//! systemd's readiness protocol (sd_notify): with `Type=notify`, systemd passes a datagram
//! socket in `$NOTIFY_SOCKET` and orders `target.service` after us only once we send
//! `READY=1`, that is once every existing drive is served. A path starting with `@` names an
//! abstract socket. Without the variable (not under systemd) nothing is sent.
use std::io;
use std::os::unix::net::UnixDatagram;

/// Send `state` (e.g. "READY=1\nMAINPID=…") to the socket named by `$NOTIFY_SOCKET`, if any.
/// Failures are logged, never fatal: the service still works, systemd just waits.
pub fn notify(state: &str) {
    let Some(addr) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Some(addr) = addr.to_str() else {
        log::warn!("NOTIFY_SOCKET is not valid UTF-8; not telling systemd '{state}'");
        return;
    };
    if let Err(e) = notify_to(addr, state) {
        log::warn!("telling systemd '{state}' through {addr}: {e}");
    }
}

/// Send `state` to the notification socket `addr` (a path, or `@name` for an abstract one).
pub fn notify_to(addr: &str, state: &str) -> io::Result<()> {
    let sock = UnixDatagram::unbound()?;
    if let Some(name) = addr.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        let sa = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        sock.send_to_addr(state.as_bytes(), &sa)?;
    } else if addr.starts_with('/') {
        sock.send_to(state.as_bytes(), addr)?;
    } else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "NOTIFY_SOCKET must be an absolute path or start with '@'",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receiver() -> (UnixDatagram, std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "tcmu-mmc-notify-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let _ = std::fs::remove_file(&path);
        (UnixDatagram::bind(&path).unwrap(), path, dir)
    }

    #[test]
    fn sends_the_state_to_a_path_socket() {
        let (rx, path, dir) = receiver();
        notify_to(path.to_str().unwrap(), "READY=1\nSTATUS=serving 0 drives").unwrap();
        let mut buf = [0u8; 128];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\nSTATUS=serving 0 drives");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn sends_to_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("tcmu-mmc-notify-test-{}", std::process::id());
        let sa = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let rx = UnixDatagram::bind_addr(&sa).unwrap();
        notify_to(&format!("@{name}"), "STOPPING=1").unwrap();
        let mut buf = [0u8; 32];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");
    }

    #[test]
    fn refuses_a_relative_address() {
        let e = notify_to("run/notify", "READY=1").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
