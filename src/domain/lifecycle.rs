//! The states of every resource with a lifecycle, and the transitions that time alone
//! drives (`pending → available` after the configured delay, …). Actions change states
//! through the methods here; the store's settling reads its state names from here too.

/// Declares a state enum with EC2's spelling of each state.
macro_rules! states {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub enum $name {
            #[default]
            $($variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// EC2's name of the state, as answered and as stored.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown state '{text}'")))
            }
        }
    };
}

states! {
    /// An AMI: registered `pending`, `available` once its snapshots are, `failed` if they
    /// fail; `disabled` and `deregistered` by their owner.
    ImageState {
        Pending = "pending",
        Available = "available",
        Failed = "failed",
        Deregistered = "deregistered",
        Disabled = "disabled",
    }
}

states! {
    /// An EBS snapshot.
    SnapshotState {
        Pending = "pending",
        Completed = "completed",
        Error = "error",
    }
}

states! {
    /// An EBS volume.
    VolumeState {
        Creating = "creating",
        Available = "available",
        InUse = "in-use",
        Error = "error",
    }
}

states! {
    /// An instance, with EC2's numeric code for each state.
    InstanceState {
        Pending = "pending",
        Running = "running",
        ShuttingDown = "shutting-down",
        Terminated = "terminated",
        Stopping = "stopping",
        Stopped = "stopped",
    }
}

states! {
    /// A VM Import task.
    ImportTaskState {
        Active = "active",
        Completed = "completed",
        Deleting = "deleting",
        Deleted = "deleted",
    }
}

/// A state that ends by itself once its time (`ready_at`) has come.
pub trait Timed: Sized + Copy + 'static {
    /// Where this state leads once its time is up; `None` for states that last.
    fn settles_to(self) -> Option<Self>;
}

impl Timed for ImageState {
    fn settles_to(self) -> Option<Self> {
        (self == ImageState::Pending).then_some(ImageState::Available)
    }
}

impl Timed for SnapshotState {
    fn settles_to(self) -> Option<Self> {
        (self == SnapshotState::Pending).then_some(SnapshotState::Completed)
    }
}

impl Timed for VolumeState {
    fn settles_to(self) -> Option<Self> {
        (self == VolumeState::Creating).then_some(VolumeState::Available)
    }
}

impl Timed for InstanceState {
    fn settles_to(self) -> Option<Self> {
        match self {
            InstanceState::Pending => Some(InstanceState::Running),
            InstanceState::Stopping => Some(InstanceState::Stopped),
            InstanceState::ShuttingDown => Some(InstanceState::Terminated),
            _ => None,
        }
    }
}

impl InstanceState {
    /// The state code EC2 reports with each state name.
    pub fn code(self) -> i64 {
        match self {
            InstanceState::Pending => 0,
            InstanceState::Running => 16,
            InstanceState::ShuttingDown => 32,
            InstanceState::Terminated => 48,
            InstanceState::Stopping => 64,
            InstanceState::Stopped => 80,
        }
    }
}

/// Every timed transition of a state type, as (from, to) pairs.
pub fn timed_transitions<S: Timed>(all: &'static [S]) -> impl Iterator<Item = (S, S)> {
    all.iter().filter_map(|s| s.settles_to().map(|next| (*s, next)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in InstanceState::ALL {
            assert_eq!(InstanceState::parse(s.as_str()), Some(*s));
        }
        for s in ImageState::ALL {
            assert_eq!(ImageState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(VolumeState::parse("in-use"), Some(VolumeState::InUse));
        assert_eq!(SnapshotState::parse("done"), None);
    }

    #[test]
    fn time_drives_only_transitional_states() {
        let instance: Vec<_> = timed_transitions(InstanceState::ALL).collect();
        assert_eq!(
            instance,
            [
                (InstanceState::Pending, InstanceState::Running),
                (InstanceState::ShuttingDown, InstanceState::Terminated),
                (InstanceState::Stopping, InstanceState::Stopped),
            ]
        );
        assert_eq!(ImageState::Available.settles_to(), None);
        assert_eq!(SnapshotState::Pending.settles_to(), Some(SnapshotState::Completed));
        assert_eq!(VolumeState::Creating.settles_to(), Some(VolumeState::Available));
    }

    #[test]
    fn instance_codes_are_ec2s() {
        let codes: Vec<i64> = InstanceState::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, [0, 16, 32, 48, 64, 80]);
    }
}
