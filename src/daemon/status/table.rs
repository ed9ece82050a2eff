//! `tcmu-mmc status`'s human table.
use super::DriveStatus;

/// The human table.
pub fn table(drives: &[DriveStatus], daemon_up: bool) -> String {
    let mut s = String::new();
    if !daemon_up {
        s.push_str("tcmu-mmc daemon: not running (no answer on its control socket)\n");
    }
    if drives.is_empty() {
        s.push_str("no mmc drives configured\n");
        return s;
    }
    let rows: Vec<[String; 9]> = drives
        .iter()
        .map(|d| {
            [
                format!("{}/{}", d.hba, d.name),
                if d.exports.is_empty() {
                    "-".into()
                } else {
                    d.exports.join(",")
                },
                d.profile.clone(),
                format!("{}{}", d.tray, if d.locked { ",locked" } else { "" }),
                format!(
                    "{}{}",
                    d.disc,
                    if d.write_protected { ",protected" } else { "" }
                ),
                d.capacity_blocks.to_string(),
                d.used_blocks.to_string(),
                d.image.clone().unwrap_or_else(|| "-".into()),
                d.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let head = [
        "DRIVE", "DEVICE", "PROFILE", "TRAY", "DISC", "CAPACITY", "USED", "IMAGE", "NOTE",
    ];
    let mut width = head.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$}  ", w = width[i]));
            }
        }
        s.push_str(l.trim_end());
        s.push('\n');
    };
    line(&head);
    for r in &rows {
        line(&r.each_ref().map(String::as_str));
    }
    s
}
