//! The EBS volume: types, their size and performance rules, and states.

use super::lifecycle::VolumeState;
use crate::ec2_err;
use crate::error::Result;

pub const VOLUME_TYPES: &[&str] = &["standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Volume {
    pub volume_id: String,
    pub owner_id: String,
    pub region: String,
    pub availability_zone: String,
    pub availability_zone_id: String,
    pub size: i64,
    pub volume_type: String,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub snapshot_id: Option<String>,
    pub multi_attach_enabled: bool,
    pub state: VolumeState,
    pub create_time: i64,
    pub ready_at: Option<i64>,
    pub attachment: Option<Attachment>,
    pub tags: Vec<(String, String)>,
}

impl Volume {
    /// The volume as it is at `now` (see `Image::settled`).
    pub fn settled(&self, now: i64) -> Volume {
        let mut volume = self.clone();
        if volume.state == VolumeState::Creating && volume.ready_at.is_some_and(|t| t <= now) {
            volume.state = VolumeState::Available;
            volume.ready_at = None;
        }
        volume
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachment {
    pub instance_id: String,
    pub device: String,
    pub state: String,
    pub attach_time: i64,
    pub delete_on_termination: bool,
}

/// Size range in GiB of each volume type.
pub fn size_range(volume_type: &str) -> (i64, i64) {
    match volume_type {
        "gp2" => (1, 16_384),
        "io1" => (4, 16_384),
        "gp3" => (1, 65_536),
        "io2" => (4, 65_536),
        "st1" | "sc1" => (125, 16_384),
        _ => (1, 1_024),
    }
}

pub fn check_size(volume_type: &str, size: i64) -> Result<()> {
    let (min, max) = size_range(volume_type);
    if size < min {
        return Err(ec2_err!(InvalidParameterValue, "Volume of {size}GiB is too small; minimum is {min}GiB."));
    }
    if size > max {
        return Err(ec2_err!(InvalidParameterValue, "Volume of {size}GiB is too large; maximum is {max}GiB."));
    }
    Ok(())
}

/// The IOPS and throughput a volume reports: given for io1/io2/gp3, derived for gp2.
pub fn performance(
    volume_type: &str,
    size: i64,
    iops: Option<i64>,
    throughput: Option<i64>,
) -> Result<(Option<i64>, Option<i64>)> {
    match volume_type {
        "io1" | "io2" => {
            let iops = iops.ok_or_else(|| {
                ec2_err!(InvalidParameterCombination, "The parameter iops must be specified for {volume_type} volumes.")
            })?;
            if !(100..=256_000).contains(&iops) {
                return Err(ec2_err!(InvalidParameterValue, "Value ({iops}) for parameter iops is invalid."));
            }
            Ok((Some(iops), None))
        }
        "gp3" => {
            let iops = iops.unwrap_or(3_000);
            let throughput = throughput.unwrap_or(125);
            if !(3_000..=80_000).contains(&iops) {
                return Err(ec2_err!(InvalidParameterValue, "Value ({iops}) for parameter iops is invalid."));
            }
            if !(125..=2_000).contains(&throughput) {
                return Err(ec2_err!(
                    InvalidParameterValue,
                    "Value ({throughput}) for parameter throughput is invalid."
                ));
            }
            Ok((Some(iops), Some(throughput)))
        }
        _ if iops.is_some() => {
            Err(ec2_err!(InvalidParameterCombination, "The parameter iops is not supported for {volume_type} volumes."))
        }
        "gp2" => Ok((Some((size * 3).clamp(100, 16_000)), None)),
        _ => Ok((None, None)),
    }
}

/// The account's default EBS encryption key in a region (`aws/ebs`).
pub fn default_kms_key(account: &str, region: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:alias/aws/ebs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked_per_type() {
        assert!(check_size("gp2", 8).is_ok());
        assert!(check_size("gp2", 16_385).is_err());
        assert!(check_size("st1", 100).is_err());
        assert!(check_size("io1", 3).is_err());
    }

    #[test]
    fn gp2_iops_scale_with_size_and_io_types_need_iops() {
        assert_eq!(performance("gp2", 10, None, None).unwrap(), (Some(100), None));
        assert_eq!(performance("gp2", 100, None, None).unwrap(), (Some(300), None));
        assert_eq!(performance("gp3", 10, None, None).unwrap(), (Some(3000), Some(125)));
        assert!(performance("io1", 10, None, None).is_err());
        assert!(performance("standard", 10, Some(100), None).is_err());
    }
}
