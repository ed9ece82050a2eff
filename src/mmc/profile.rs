//! MMC profile numbers (the "disc type" a drive reports as current).

/// No medium, or a medium the drive cannot identify.
pub const NONE: u16 = 0x0000;
pub const CD_ROM: u16 = 0x0008;
pub const CD_R: u16 = 0x0009;
pub const CD_RW: u16 = 0x000a;
pub const DVD_ROM: u16 = 0x0010;
pub const DVD_R_SEQUENTIAL: u16 = 0x0011;
pub const DVD_RAM: u16 = 0x0012;
pub const DVD_RW_RESTRICTED_OVERWRITE: u16 = 0x0013;
pub const DVD_RW_SEQUENTIAL: u16 = 0x0014;
pub const DVD_R_DL_SEQUENTIAL: u16 = 0x0015;
pub const DVD_R_DL_LAYER_JUMP: u16 = 0x0016;
pub const DVD_PLUS_RW: u16 = 0x001a;
pub const DVD_PLUS_R: u16 = 0x001b;
pub const DVD_PLUS_R_DL: u16 = 0x002b;
pub const BD_ROM: u16 = 0x0040;
pub const BD_R_SRM: u16 = 0x0041;
pub const BD_RE: u16 = 0x0043;

/// The profiles this drive can present, in the order GET CONFIGURATION lists them.
pub const SUPPORTED: &[u16] = &[
    BD_RE,
    BD_R_SRM,
    BD_ROM,
    DVD_PLUS_R_DL,
    DVD_PLUS_R,
    DVD_PLUS_RW,
    DVD_R_DL_LAYER_JUMP,
    DVD_R_DL_SEQUENTIAL,
    DVD_R_SEQUENTIAL,
    DVD_RW_SEQUENTIAL,
    DVD_RW_RESTRICTED_OVERWRITE,
    DVD_RAM,
    DVD_ROM,
    CD_RW,
    CD_ROM,
];

/// Whether `profile` is one of the DVD family.
pub fn is_dvd(profile: u16) -> bool {
    (0x0010..=0x002b).contains(&profile)
}

/// Whether `profile` is one of the Blu-ray family.
pub fn is_bd(profile: u16) -> bool {
    (0x0040..=0x0043).contains(&profile)
}

/// The name users know a profile by (`status`, logs).
pub fn name(profile: u16) -> &'static str {
    match profile {
        NONE => "none",
        CD_ROM => "CD-ROM",
        CD_R => "CD-R",
        CD_RW => "CD-RW",
        DVD_ROM => "DVD-ROM",
        DVD_R_SEQUENTIAL => "DVD-R",
        DVD_R_DL_SEQUENTIAL => "DVD-R DL",
        DVD_R_DL_LAYER_JUMP => "DVD-R DL LJ",
        DVD_RAM => "DVD-RAM",
        DVD_RW_RESTRICTED_OVERWRITE => "DVD-RW RO",
        DVD_RW_SEQUENTIAL => "DVD-RW",
        DVD_PLUS_RW => "DVD+RW",
        DVD_PLUS_R => "DVD+R",
        DVD_PLUS_R_DL => "DVD+R DL",
        BD_ROM => "BD-ROM",
        BD_R_SRM => "BD-R",
        BD_RE => "BD-RE",
        _ => "other",
    }
}
