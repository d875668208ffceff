//! A tiny ZIP writer for archives that honest writers refuse to make (stored entries only).

/// One entry.
#[derive(Debug, Clone)]
pub struct Entry {
    name: Vec<u8>,
    data: Vec<u8>,
    flags: u16,
    external_attr: u32,
    declared: Option<u32>,
    local_name: Option<Vec<u8>>,
    listed: bool,
}

impl Entry {
    /// A regular file.
    pub fn file(name: &[u8], data: &[u8]) -> Entry {
        Entry {
            name: name.to_vec(),
            data: data.to_vec(),
            flags: 0,
            external_attr: 0o100644 << 16,
            declared: None,
            local_name: None,
            listed: true,
        }
    }

    /// A symbolic link pointing at `target`.
    pub fn symlink(name: &[u8], target: &[u8]) -> Entry {
        Entry { external_attr: 0o120777 << 16, ..Entry::file(name, target) }
    }

    /// The same, flagged as encrypted.
    pub fn encrypted(self) -> Entry {
        Entry { flags: self.flags | 1, ..self }
    }

    /// The same, declaring another uncompressed size than it holds.
    pub fn declaring(self, size: u32) -> Entry {
        Entry { declared: Some(size), ..self }
    }

    /// The same, under another name in its local header than in the central directory.
    pub fn locally_named(self, name: &[u8]) -> Entry {
        Entry { local_name: Some(name.to_vec()), ..self }
    }

    /// The same, written as a local entry that the central directory does not list.
    pub fn unlisted(self) -> Entry {
        Entry { listed: false, ..self }
    }
}

fn u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A ZIP archive of stored entries.
pub fn raw_zip(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = out.len() as u32;
        let crc = crc32fast::hash(&entry.data);
        let size = entry.data.len() as u32;
        let declared = entry.declared.unwrap_or(size);
        u32le(&mut out, 0x0403_4b50);
        for v in [20, entry.flags, 0, 0, 0] {
            u16le(&mut out, v);
        }
        for v in [crc, size, declared] {
            u32le(&mut out, v);
        }
        let local_name = entry.local_name.as_ref().unwrap_or(&entry.name);
        u16le(&mut out, local_name.len() as u16);
        u16le(&mut out, 0);
        out.extend_from_slice(local_name);
        out.extend_from_slice(&entry.data);
        if !entry.listed {
            continue;
        }

        u32le(&mut central, 0x0201_4b50);
        for v in [(3 << 8) | 20, 20, entry.flags, 0, 0, 0] {
            u16le(&mut central, v);
        }
        for v in [crc, size, declared] {
            u32le(&mut central, v);
        }
        for v in [entry.name.len() as u16, 0, 0, 0, 0] {
            u16le(&mut central, v);
        }
        u32le(&mut central, entry.external_attr);
        u32le(&mut central, offset);
        central.extend_from_slice(&entry.name);
    }
    let central_offset = out.len() as u32;
    let central_size = central.len() as u32;
    out.extend_from_slice(&central);
    let listed = entries.iter().filter(|e| e.listed).count() as u16;
    end_of_central_directory(&mut out, listed, central_size, central_offset);
    out
}

fn end_of_central_directory(out: &mut Vec<u8>, count: u16, size: u32, offset: u32) {
    u32le(out, 0x0605_4b50);
    for v in [0, 0, count, count] {
        u16le(out, v);
    }
    u32le(out, size);
    u32le(out, offset);
    u16le(out, 0);
}

/// Rewrites a one-entry archive so that `copies` central-directory entries (with distinct
/// names) all point at its single local entry: the overlapping-entry zip bomb.
pub fn overlap(single: &[u8], copies: usize) -> Vec<u8> {
    let eocd = single.len() - 22;
    let cd_offset =
        u32::from_le_bytes(single[eocd + 16..eocd + 20].try_into().expect("offset")) as usize;
    // The fixed 46 bytes of the one central-directory record (its name follows).
    let fixed = &single[cd_offset..cd_offset + 46];
    let mut out = single[..cd_offset].to_vec();
    let mut central = Vec::new();
    for i in 0..copies {
        let name = format!("p{i}.txt");
        let mut header = fixed.to_vec();
        header[28..30].copy_from_slice(&(name.len() as u16).to_le_bytes());
        header[30..32].copy_from_slice(&0u16.to_le_bytes());
        header[32..34].copy_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&header);
        central.extend_from_slice(name.as_bytes());
    }
    let offset = out.len() as u32;
    let size = central.len() as u32;
    out.extend_from_slice(&central);
    end_of_central_directory(&mut out, copies as u16, size, offset);
    out
}

/// Offset of the end-of-central-directory record of an archive without a comment.
fn end_record(archive: &[u8]) -> usize {
    archive.len() - 22
}

/// The same archive declaring `here` entries on this disk and `total` in all.
pub fn with_counts(mut archive: Vec<u8>, here: u16, total: u16) -> Vec<u8> {
    let end = end_record(&archive);
    archive[end + 8..end + 10].copy_from_slice(&here.to_le_bytes());
    archive[end + 10..end + 12].copy_from_slice(&total.to_le_bytes());
    archive
}

/// The same archive claiming to be disk `disk` of a set.
pub fn on_disk(mut archive: Vec<u8>, disk: u16) -> Vec<u8> {
    let end = end_record(&archive);
    archive[end + 4..end + 6].copy_from_slice(&disk.to_le_bytes());
    archive[end + 6..end + 8].copy_from_slice(&disk.to_le_bytes());
    archive
}

/// The same archive with ZIP64's marker in its end record (the directory's offset "in
/// the ZIP64 record").
pub fn zip64_marked(mut archive: Vec<u8>) -> Vec<u8> {
    let end = end_record(&archive);
    archive[end + 16..end + 20].copy_from_slice(&u32::MAX.to_le_bytes());
    archive
}
