//! The control socket: the daemon answers for the drives it serves over a Unix socket in its
//! run directory (one request line, one JSON reply), and `tcmu-mmc status` asks there.
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::DriveStatus;

/// The control socket's path inside the run directory.
pub fn socket_path(run_dir: &Path) -> PathBuf {
    run_dir.join("control.sock")
}

/// How long a drive thread may take to describe itself (it may be inside a slow write).
const DRIVE_ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// A drive thread the control socket can ask.
pub struct Asker {
    pub hba: u32,
    pub name: String,
    pub uio: String,
    pub config: String,
    pub ask: Box<dyn Fn() -> Option<mpsc::Receiver<DriveStatus>> + Send>,
}

/// The daemon's end of the control socket.
pub struct ControlSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl ControlSocket {
    /// Bind `<run_dir>/control.sock`, replacing a stale socket of a previous run.
    pub fn bind(run_dir: &Path) -> io::Result<Self> {
        let path = socket_path(run_dir);
        let _ = fs::remove_file(&path);
        let listener = UnixListener::bind(&path)?;
        listener.set_nonblocking(true)?;
        Ok(ControlSocket { listener, path })
    }

    pub fn listener(&self) -> &UnixListener {
        &self.listener
    }

    /// Answer every waiting client on its own thread; `askers` makes one set of drive
    /// handles per client.
    pub fn accept_all(&self, mut askers: impl FnMut() -> Vec<Asker>) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    let drives = askers();
                    let spawned =
                        std::thread::Builder::new()
                            .name("control".into())
                            .spawn(move || {
                                if let Err(e) = answer(stream, drives) {
                                    log::debug!("control client: {e}");
                                }
                            });
                    if let Err(e) = spawned {
                        log::warn!("control socket: cannot start a thread: {e}");
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    log::warn!("control socket: {e}");
                    return;
                }
            }
        }
    }
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Serve one client: it sends `status`, it gets a JSON array of the served drives.
fn answer(stream: UnixStream, drives: Vec<Asker>) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = String::new();
    BufReader::new(&stream).read_line(&mut request)?;
    log::debug!(
        "control: request {:?} for {} drive(s)",
        request.trim(),
        drives.len()
    );
    let mut out = &stream;
    if request.trim() != "status" {
        writeln!(
            out,
            "{{\"error\":\"unknown request {:?}\"}}",
            request.trim()
        )?;
        return Ok(());
    }
    let pending: Vec<_> = drives.into_iter().map(|a| ((a.ask)(), a)).collect();
    let mut list = Vec::with_capacity(pending.len());
    for (reply, a) in pending {
        let mut st = match reply.and_then(|r| r.recv_timeout(DRIVE_ANSWER_TIMEOUT).ok()) {
            Some(st) => st,
            None => DriveStatus {
                served: true,
                tray: "unknown".into(),
                note: Some("busy: the drive did not answer in time".into()),
                ..DriveStatus::default()
            },
        };
        st.hba = a.hba;
        st.name = a.name;
        st.uio = Some(a.uio);
        st.config = a.config;
        list.push(st);
    }
    log::debug!("control: answering with {} drive(s)", list.len());
    serde_json::to_writer(out, &list).map_err(io::Error::other)?;
    writeln!(out)?;
    Ok(())
}

/// Ask a running daemon for its drives. `Ok(None)`: no daemon listens on `run_dir`'s socket.
pub fn query_daemon(run_dir: &Path) -> Result<Option<Vec<DriveStatus>>, String> {
    let path = socket_path(run_dir);
    let Ok(stream) = UnixStream::connect(&path) else {
        return Ok(None);
    };
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        format!("daemon on {}: {what}: {e}", path.display())
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| failed("socket", &e))?;
    (&stream)
        .write_all(b"status\n")
        .map_err(|e| failed("sending the request", &e))?;
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .map_err(|e| failed("reading the answer", &e))?;
    serde_json::from_str(&line)
        .map(Some)
        .map_err(|e| failed(&format!("unreadable answer {:?}", line.trim_end()), &e))
}
