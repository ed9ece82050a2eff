//! tcmu-mmc: virtual optical writers for Linux LIO, served over TCMU from plain image files.
//!
//! The layers depend on each other in one direction only:
//!
//! * [`ring`]: a safe view of one device's mapped command ring, plus a fake kernel for tests;
//! * [`scsi`]: CDB fields, sense data and the SPC commands every SCSI device answers;
//! * [`mmc`]: the drive model (profiles, media state, features, mode pages). Pure: it sees
//!   CDBs and produces bytes, never touching the ring or a file;
//! * [`media`]: backing image files and the configuration string that names them;
//! * [`device`]: one emulated drive, joining the model and its medium to a ring;
//! * [`daemon`]: discovery of TCMU devices, one event loop per drive, signals.
pub mod daemon;
pub mod device;
pub mod media;
pub mod mmc;
pub mod ring;
pub mod scsi;
