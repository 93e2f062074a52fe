//! Resource states are stored as EC2 spells them; these impls let queries bind and read
//! the domain's state enums directly.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Sqlite, Type};

use crate::domain::lifecycle::{ImageState, ImportTaskState, InstanceState, SnapshotState, VolumeState};

macro_rules! stored_as_text {
    ($($state:ty),+) => {$(
        impl Type<Sqlite> for $state {
            fn type_info() -> SqliteTypeInfo {
                <&str as Type<Sqlite>>::type_info()
            }

            fn compatible(ty: &SqliteTypeInfo) -> bool {
                <&str as Type<Sqlite>>::compatible(ty)
            }
        }

        impl<'q> Encode<'q, Sqlite> for $state {
            fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
                <&str as Encode<'q, Sqlite>>::encode_by_ref(&self.as_str(), buf)
            }
        }

        impl<'r> Decode<'r, Sqlite> for $state {
            fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
                <$state>::parse(text).ok_or_else(|| format!("unknown state '{text}'").into())
            }
        }
    )+};
}

stored_as_text!(ImageState, SnapshotState, VolumeState, InstanceState, ImportTaskState);
