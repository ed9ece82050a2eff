//! A backing image file, read straight into the ring's data buffers with `preadv`.
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::ring::DataBuffer;
use crate::scsi::BLOCK_SIZE;

/// Most iovecs one `preadv` takes (`IOV_MAX` on Linux).
const IOV_MAX: usize = 1024;

/// Which way a vectored transfer goes.
#[derive(Clone, Copy)]
enum Io {
    Read,
    Write,
}

pub struct Image {
    file: File,
    path: PathBuf,
    size: std::cell::Cell<u64>,
    writable: bool,
}

impl Image {
    /// Open an image read-only.
    pub fn open(path: &Path) -> io::Result<Self> {
        Self::from_file(File::open(path)?, path, false)
    }

    /// Open an image for reading and writing (a recordable disc).
    pub fn open_writable(path: &Path) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        Self::from_file(file, path, true)
    }

    fn from_file(file: File, path: &Path, writable: bool) -> io::Result<Self> {
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Ok(Image {
            file,
            path: path.to_owned(),
            size: std::cell::Cell::new(meta.len()),
            writable,
        })
    }

    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// Flush written data to stable storage.
    pub fn sync_data(&self) -> io::Result<()> {
        if self.writable {
            self.file.sync_data()?;
        }
        Ok(())
    }

    /// Flush data and metadata (the size, after a truncate) to stable storage.
    pub fn sync_all(&self) -> io::Result<()> {
        self.file.sync_all()
    }

    /// Cut the image to `len` bytes.
    pub fn truncate(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)?;
        self.size.set(len);
        Ok(())
    }

    /// Write `blocks` blocks from the start of `buf` at `lba`. The buffer must hold them all.
    pub fn write_from(
        &self,
        lba: u64,
        blocks: u32,
        buf: &DataBuffer<'_>,
        iov: &mut Vec<libc::iovec>,
    ) -> io::Result<()> {
        let want = blocks as usize * BLOCK_SIZE;
        if buf.len() < want {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "data shorter than the transfer",
            ));
        }
        let offset = lba * BLOCK_SIZE as u64;
        let mut done = 0usize;
        while done < want {
            match self.vectored(Io::Write, buf, done, want - done, offset + done as u64, iov)? {
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "image write made no progress",
                    ))
                }
                n => done += n,
            }
        }
        self.size.set(self.size.get().max(offset + want as u64));
        Ok(())
    }

    /// One `preadv`/`pwritev` between `buf[start..start + len]` and the file at `file_pos`,
    /// retried on EINTR. Returns the bytes moved.
    fn vectored(
        &self,
        io: Io,
        buf: &DataBuffer<'_>,
        start: usize,
        len: usize,
        file_pos: u64,
        iov: &mut Vec<libc::iovec>,
    ) -> io::Result<usize> {
        iov.clear();
        buf.io_vectors(start, len, iov);
        iov.truncate(IOV_MAX);
        let (fd, count, pos) = (
            self.file.as_raw_fd(),
            iov.len() as libc::c_int,
            file_pos as libc::off_t,
        );
        loop {
            // SAFETY: every iovec points into a data segment of the ring that the command owns
            // (built by `DataBuffer::io_vectors` from bounds-checked segments); the caller holds
            // the buffer for the duration of the call, mutably when reading into it.
            let n = unsafe {
                match io {
                    Io::Read => libc::preadv(fd, iov.as_ptr(), count, pos),
                    Io::Write => libc::pwritev(fd, iov.as_ptr(), count, pos),
                }
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn size(&self) -> u64 {
        self.size.get()
    }

    /// Blocks the image holds; a partial last block counts (it reads back zero-padded).
    pub fn blocks(&self) -> u32 {
        u32::try_from(self.size().div_ceil(BLOCK_SIZE as u64)).unwrap_or(u32::MAX)
    }

    /// Copy `blocks` blocks from `lba` into the start of `buf` (no more than `buf` holds).
    /// Bytes past the end of the image (a partial last block) read as zeros; an image that
    /// shrank below its size fails with `UnexpectedEof`. Returns the bytes placed in `buf`.
    pub fn read_into(
        &self,
        lba: u64,
        blocks: u32,
        buf: &mut DataBuffer<'_>,
        iov: &mut Vec<libc::iovec>,
    ) -> io::Result<usize> {
        let want = (blocks as usize * BLOCK_SIZE).min(buf.len());
        let offset = lba * BLOCK_SIZE as u64;
        let mut done = 0usize;
        while done < want {
            let file_pos = offset + done as u64;
            if file_pos >= self.size() {
                break;
            }
            match self.vectored(Io::Read, buf, done, want - done, file_pos, iov)? {
                // The file shrank under the drive (truncated by someone else): those blocks
                // are gone, which a real disc reports as an unrecoverable read.
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "the image ends at byte {file_pos}, short of the {} it had",
                            self.size()
                        ),
                    ))
                }
                n => done += n,
            }
        }
        buf.zero(done, want - done);
        Ok(want)
    }
}
