//! Disk image formats VM Import reads, told apart by their headers, and the failure
//! messages EC2 gives an import task.

/// A disk image format as VM Import names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskFormat {
    Raw,
    Vmdk,
    Vhd,
    Vhdx,
}

impl DiskFormat {
    /// The name in requests and in `format` of a task (upper-case, as EC2 echoes it).
    pub fn name(self) -> &'static str {
        match self {
            DiskFormat::Raw => "RAW",
            DiskFormat::Vmdk => "VMDK",
            DiskFormat::Vhd => "VHD",
            DiskFormat::Vhdx => "VHDX",
        }
    }

    /// `Format` from a request; EC2 takes it in any case.
    pub fn parse(text: &str) -> Option<DiskFormat> {
        match text.to_ascii_uppercase().as_str() {
            "RAW" => Some(DiskFormat::Raw),
            "VMDK" => Some(DiskFormat::Vmdk),
            "VHD" => Some(DiskFormat::Vhd),
            "VHDX" => Some(DiskFormat::Vhdx),
            _ => None,
        }
    }

    /// qemu-img's name for the format.
    pub fn qemu_name(self) -> &'static str {
        match self {
            DiskFormat::Raw => "raw",
            DiskFormat::Vmdk => "vmdk",
            DiskFormat::Vhd => "vpc",
            DiskFormat::Vhdx => "vhdx",
        }
    }
}

/// What the first and last sectors of a file say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detected {
    Disk(DiskFormat),
    /// A VMDK that is not stream-optimized (VM Import takes only those).
    UnsupportedVmdk,
    /// A container VM Import does not read (qcow2, VDI, ...).
    Unsupported(&'static str),
}

/// The VMDK sparse-extent header flag of a stream-optimized disk (compressed grains).
const VMDK_COMPRESSED: u32 = 1 << 16;

/// How much of the start of a file `detect` wants: a VMDK's embedded descriptor sits
/// in its first sectors.
pub const HEAD_BYTES: usize = 64 * 1024;

/// VHD footer disk type of a differencing disk (a child of another file).
const VHD_DIFFERENCING: u32 = 4;

/// Tells the format from the file's first `HEAD_BYTES` and its last 512 bytes. Disks
/// that are children of another file (VMDK `parentCID`, differencing VHD) are refused:
/// an import has only the one file.
pub fn detect(head: &[u8], tail: &[u8]) -> Detected {
    if head.starts_with(b"KDMV") {
        let flags = head.get(8..12).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).unwrap_or(0);
        let compression = head.get(77..79).map(|b| u16::from_le_bytes([b[0], b[1]])).unwrap_or(0);
        return if flags & VMDK_COMPRESSED != 0 && compression == 1 && !has_vmdk_parent(head) {
            Detected::Disk(DiskFormat::Vmdk)
        } else {
            Detected::UnsupportedVmdk
        };
    }
    if head.starts_with(b"# Disk DescriptorFile") {
        // A bare descriptor: its extents are other files, which an import never has.
        return Detected::UnsupportedVmdk;
    }
    if head.starts_with(b"vhdxfile") {
        return Detected::Disk(DiskFormat::Vhdx);
    }
    // Dynamic VHDs copy their footer to the start; fixed ones have it only at the end.
    let footer = if tail.starts_with(b"conectix") { Some(tail) } else { head.starts_with(b"conectix").then_some(head) };
    if let Some(footer) = footer {
        let disk_type = footer.get(60..64).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        return if disk_type == Some(VHD_DIFFERENCING) {
            Detected::Unsupported("differencing vhd")
        } else {
            Detected::Disk(DiskFormat::Vhd)
        };
    }
    if head.starts_with(b"QFI\xfb") {
        return Detected::Unsupported("qcow2");
    }
    if head.get(64..68) == Some(&[0x7f, 0x10, 0xda, 0xbe]) {
        return Detected::Unsupported("vdi");
    }
    Detected::Disk(DiskFormat::Raw)
}

/// Whether a VMDK's embedded descriptor names a parent (`parentCID` other than
/// `ffffffff`).
fn has_vmdk_parent(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("parentCID="))
        .any(|cid| !cid.trim().eq_ignore_ascii_case("ffffffff"))
}

/// Whether a raw disk starts with a boot sector (an MBR, or GPT's protective MBR):
/// without one there is no operating system for ImportImage to find.
pub fn has_boot_sector(first_sector: &[u8]) -> bool {
    first_sector.get(510..512) == Some(&[0x55, 0xaa])
}

/// Failure messages of an import task, as EC2 words them (`statusMessage` of a task
/// that ends `deleted`).
pub mod failure {
    pub const UNSUPPORTED_FORMAT: &str = "ClientError: Disk validation failed [Unsupported specified file format]";
    pub const UNSUPPORTED_VMDK: &str = "ClientError: Disk validation failed [Unsupported VMDK File Format]";
    pub const UNKNOWN_OS: &str = "ClientError: Unknown OS / Missing OS files.";
    pub const EMPTY_DISK: &str = "ClientError: Disk validation failed [Invalid disk image size]";
    pub const TOO_LARGE: &str = "ClientError: Disk validation failed [Disk image size exceeds the 16 TiB limit]";

    pub fn inaccessible(reason: &str) -> String {
        format!("ClientError: Disk validation failed [We do not have access to the given resource. Reason {reason}]")
    }

    pub fn corrupt(format: super::DiskFormat, detail: &str) -> String {
        let detail = detail.lines().last().unwrap_or(detail).trim();
        format!("ClientError: Disk validation failed [Invalid {} disk: {detail}]", format.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vmdk_header(flags: u32, compression: u16) -> Vec<u8> {
        let mut head = vec![0u8; 512];
        head[..4].copy_from_slice(b"KDMV");
        head[8..12].copy_from_slice(&flags.to_le_bytes());
        head[77..79].copy_from_slice(&compression.to_le_bytes());
        head
    }

    #[test]
    fn formats_are_told_by_their_headers() {
        let zeros = vec![0u8; 512];
        assert_eq!(detect(&vmdk_header(VMDK_COMPRESSED | 3, 1), &zeros), Detected::Disk(DiskFormat::Vmdk));
        assert_eq!(detect(&vmdk_header(3, 0), &zeros), Detected::UnsupportedVmdk);
        let mut child = vmdk_header(VMDK_COMPRESSED | 3, 1);
        child.extend_from_slice(b"# Disk DescriptorFile\nversion=1\nCID=1a2b3c4d\nparentCID=5e6f7a8b\n");
        assert_eq!(detect(&child, &zeros), Detected::UnsupportedVmdk, "a child of another VMDK");
        let mut no_parent = vmdk_header(VMDK_COMPRESSED | 3, 1);
        no_parent.extend_from_slice(b"CID=1a2b3c4d\nparentCID=ffffffff\n");
        assert_eq!(detect(&no_parent, &zeros), Detected::Disk(DiskFormat::Vmdk));
        let mut differencing = b"conectix".to_vec();
        differencing.resize(512, 0);
        differencing[60..64].copy_from_slice(&4u32.to_be_bytes());
        assert_eq!(detect(&zeros, &differencing), Detected::Unsupported("differencing vhd"));
        assert_eq!(detect(b"vhdxfile\0\0", &zeros), Detected::Disk(DiskFormat::Vhdx));
        assert_eq!(detect(b"conectix", &zeros), Detected::Disk(DiskFormat::Vhd));
        assert_eq!(detect(&zeros, b"conectix\0\0"), Detected::Disk(DiskFormat::Vhd), "fixed VHD: footer only");
        assert_eq!(detect(b"QFI\xfb\0\0\0\x03", &zeros), Detected::Unsupported("qcow2"));
        assert_eq!(detect(&zeros, &zeros), Detected::Disk(DiskFormat::Raw));
    }

    #[test]
    fn formats_parse_in_any_case() {
        assert_eq!(DiskFormat::parse("vhdx"), Some(DiskFormat::Vhdx));
        assert_eq!(DiskFormat::parse("Vmdk"), Some(DiskFormat::Vmdk));
        assert_eq!(DiskFormat::parse("qcow2"), None);
        let mut mbr = vec![0u8; 512];
        assert!(!has_boot_sector(&mbr));
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        assert!(has_boot_sector(&mbr));
    }
}
