//! The one error type of ec2lite: an EC2 error code, its message and its HTTP status.
//!
//! Every layer returns `Ec2Error`; the wire layer renders it as EC2's error envelope.
//! Anything unexpected (a database fault) becomes `InternalError`, logged but never leaked.

/// Declares the EC2 error codes ec2lite answers with, each with its HTTP status. A
/// variant is the code with `.` written as `_`, so `ec2_err!(InvalidAMIID_NotFound, ..)`
/// reads like the code a client sees, and a misspelt code does not compile.
macro_rules! error_codes {
    ($($variant:ident = $code:literal, $status:literal;)+) => {
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($variant,)+
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)+
                }
            }

            /// The HTTP status EC2 answers this code with (clients retry 5xx, so every
            /// validation error stays 4xx).
            pub fn status(self) -> u16 {
                match self {
                    $(Code::$variant => $status,)+
                }
            }
        }
    };
}

error_codes! {
    AuthFailure = "AuthFailure", 401;
    UnauthorizedOperation = "UnauthorizedOperation", 403;
    SignatureDoesNotMatch = "SignatureDoesNotMatch", 403;
    IncompleteSignature = "IncompleteSignature", 400;
    RequestExpired = "RequestExpired", 400;
    DryRunOperation = "DryRunOperation", 412;
    RequestEntityTooLarge = "RequestEntityTooLarge", 413;
    InternalError = "InternalError", 500;
    InsufficientInstanceCapacity = "InsufficientInstanceCapacity", 500;
    RequestLimitExceeded = "RequestLimitExceeded", 503;
    ServiceUnavailable = "ServiceUnavailable", 503;
    MissingAction = "MissingAction", 400;
    InvalidAction = "InvalidAction", 400;
    UnsupportedOperation = "UnsupportedOperation", 400;
    MissingParameter = "MissingParameter", 400;
    InvalidParameter = "InvalidParameter", 400;
    InvalidParameterValue = "InvalidParameterValue", 400;
    InvalidParameterCombination = "InvalidParameterCombination", 400;
    InvalidParameterDependency = "InvalidParameterDependency", 400;
    InvalidPaginationToken = "InvalidPaginationToken", 400;
    InvalidRequest = "InvalidRequest", 400;
    InvalidID = "InvalidID", 400;
    InvalidRegion = "InvalidRegion", 400;
    FilterLimitExceeded = "FilterLimitExceeded", 400;
    TagLimitExceeded = "TagLimitExceeded", 400;
    IdempotentParameterMismatch = "IdempotentParameterMismatch", 400;
    IncorrectState = "IncorrectState", 400;
    IncorrectInstanceState = "IncorrectInstanceState", 400;
    InstanceLimitExceeded = "InstanceLimitExceeded", 400;
    OperationNotPermitted = "OperationNotPermitted", 400;
    OptInRequired = "OptInRequired", 400;
    DependencyViolation = "DependencyViolation", 400;
    CannotDelete = "CannotDelete", 400;
    InvalidBlockDeviceMapping = "InvalidBlockDeviceMapping", 400;
    InvalidAMIAttributeItemValue = "InvalidAMIAttributeItemValue", 400;
    InvalidAMIID_Malformed = "InvalidAMIID.Malformed", 400;
    InvalidAMIID_NotFound = "InvalidAMIID.NotFound", 400;
    InvalidAMIID_Unavailable = "InvalidAMIID.Unavailable", 400;
    InvalidAMIName_Duplicate = "InvalidAMIName.Duplicate", 400;
    InvalidAMIName_Malformed = "InvalidAMIName.Malformed", 400;
    InvalidSnapshotID_Malformed = "InvalidSnapshotID.Malformed", 400;
    InvalidSnapshot_NotFound = "InvalidSnapshot.NotFound", 400;
    InvalidSnapshot_InUse = "InvalidSnapshot.InUse", 400;
    InvalidVolumeID_Malformed = "InvalidVolumeID.Malformed", 400;
    InvalidVolume_NotFound = "InvalidVolume.NotFound", 400;
    InvalidVolume_ZoneMismatch = "InvalidVolume.ZoneMismatch", 400;
    VolumeInUse = "VolumeInUse", 400;
    InvalidAttachment_NotFound = "InvalidAttachment.NotFound", 400;
    InvalidInstanceID_Malformed = "InvalidInstanceID.Malformed", 400;
    InvalidInstanceID_NotFound = "InvalidInstanceID.NotFound", 400;
    InvalidInstanceID = "InvalidInstanceID", 400;
    InvalidKernelId_Malformed = "InvalidKernelId.Malformed", 400;
    InvalidRamDiskId_Malformed = "InvalidRamDiskId.Malformed", 400;
    InvalidReservationID_Malformed = "InvalidReservationID.Malformed", 400;
    InvalidKeyPair_Malformed = "InvalidKeyPair.Malformed", 400;
    InvalidKeyPair_NotFound = "InvalidKeyPair.NotFound", 400;
    InvalidKeyPair_Duplicate = "InvalidKeyPair.Duplicate", 400;
    InvalidKey_Format = "InvalidKey.Format", 400;
    InvalidUserID_Malformed = "InvalidUserID.Malformed", 400;
    InvalidConversionTaskId_Malformed = "InvalidConversionTaskId.Malformed", 400;
    InvalidZone_NotFound = "InvalidZone.NotFound", 400;
    InvalidVpcID_Malformed = "InvalidVpcID.Malformed", 400;
    InvalidVpcID_NotFound = "InvalidVpcID.NotFound", 400;
    InvalidSubnetID_Malformed = "InvalidSubnetID.Malformed", 400;
    InvalidSubnetID_NotFound = "InvalidSubnetID.NotFound", 400;
    InvalidSubnet_Conflict = "InvalidSubnet.Conflict", 400;
    InvalidSubnet_Range = "InvalidSubnet.Range", 400;
    InvalidGroupId_Malformed = "InvalidGroupId.Malformed", 400;
    InvalidGroup_NotFound = "InvalidGroup.NotFound", 400;
    InvalidGroup_Duplicate = "InvalidGroup.Duplicate", 400;
    InvalidPermission_Duplicate = "InvalidPermission.Duplicate", 400;
    InvalidPermission_NotFound = "InvalidPermission.NotFound", 400;
    DefaultVpcAlreadyExists = "DefaultVpcAlreadyExists", 400;
    DefaultSubnetAlreadyExistsInAvailabilityZone = "DefaultSubnetAlreadyExistsInAvailabilityZone", 400;
    NoDefaultVpcForAz = "NoDefaultVpcForAz", 400;
    VPCIdNotSpecified = "VPCIdNotSpecified", 400;
    InvalidVpcRange = "InvalidVpcRange", 400;
    InvalidVpc_Range = "InvalidVpc.Range", 400;
    VpcLimitExceeded = "VpcLimitExceeded", 400;
    SubnetLimitExceeded = "SubnetLimitExceeded", 400;
    InvalidGroup_Reserved = "InvalidGroup.Reserved", 400;
    InvalidGroup_InUse = "InvalidGroup.InUse", 400;
    InvalidSecurityGroupID_NotFound = "InvalidSecurityGroupID.NotFound", 400;
    InvalidPermission_Malformed = "InvalidPermission.Malformed", 400;
    InvalidSecurityGroupRuleId_Malformed = "InvalidSecurityGroupRuleId.Malformed", 400;
    InvalidSecurityGroupRuleId_NotFound = "InvalidSecurityGroupRuleId.NotFound", 400;
    RulesPerSecurityGroupLimitExceeded = "RulesPerSecurityGroupLimitExceeded", 400;
    SecurityGroupLimitExceeded = "SecurityGroupLimitExceeded", 400;
    SecurityGroupsPerInstanceLimitExceeded = "SecurityGroupsPerInstanceLimitExceeded", 400;
    SecurityGroupsPerInterfaceLimitExceeded = "SecurityGroupsPerInterfaceLimitExceeded", 400;
    InvalidPrefixListId_Malformed = "InvalidPrefixListId.Malformed", 400;
    InvalidInternetGatewayId_Malformed = "InvalidInternetGatewayId.Malformed", 400;
    InvalidInternetGatewayID_NotFound = "InvalidInternetGatewayID.NotFound", 400;
    InvalidGatewayID_NotFound = "InvalidGatewayID.NotFound", 400;
    Gateway_NotAttached = "Gateway.NotAttached", 400;
    Resource_AlreadyAssociated = "Resource.AlreadyAssociated", 400;
    InvalidRouteTableId_Malformed = "InvalidRouteTableId.Malformed", 400;
    InvalidRouteTableID_NotFound = "InvalidRouteTableID.NotFound", 400;
    InvalidRoute_NotFound = "InvalidRoute.NotFound", 400;
    InvalidRoute_InvalidState = "InvalidRoute.InvalidState", 400;
    RouteAlreadyExists = "RouteAlreadyExists", 400;
    RouteLimitExceeded = "RouteLimitExceeded", 400;
    RouteTableLimitExceeded = "RouteTableLimitExceeded", 400;
    InvalidAssociationID_NotFound = "InvalidAssociationID.NotFound", 400;
    InvalidAssociationID_Malformed = "InvalidAssociationID.Malformed", 400;
    InvalidNetworkAclId_Malformed = "InvalidNetworkAclId.Malformed", 400;
    InvalidNetworkAclID_NotFound = "InvalidNetworkAclID.NotFound", 400;
    InvalidNetworkInterfaceId_Malformed = "InvalidNetworkInterfaceId.Malformed", 400;
    InvalidNetworkInterfaceID_NotFound = "InvalidNetworkInterfaceID.NotFound", 400;
    InvalidNetworkInterface_InUse = "InvalidNetworkInterface.InUse", 400;
    InvalidAttachmentID_NotFound = "InvalidAttachmentID.NotFound", 400;
    InvalidIPAddress_InUse = "InvalidIPAddress.InUse", 400;
    InvalidAllocationID_Malformed = "InvalidAllocationID.Malformed", 400;
    InvalidAllocationID_NotFound = "InvalidAllocationID.NotFound", 400;
    InvalidAddress_NotFound = "InvalidAddress.NotFound", 400;
    InvalidAddress_Malformed = "InvalidAddress.Malformed", 400;
    AddressLimitExceeded = "AddressLimitExceeded", 400;
    InsufficientFreeAddressesInSubnet = "InsufficientFreeAddressesInSubnet", 400;
    AttachmentLimitExceeded = "AttachmentLimitExceeded", 400;
    InvalidInstanceAttributeValue = "InvalidInstanceAttributeValue", 400;
    InvalidNetworkInterfaceAttachmentId_Malformed = "InvalidNetworkInterfaceAttachmentId.Malformed", 400;
    InvalidInstanceType = "InvalidInstanceType", 400;
    InstanceCreditSpecification_NotSupported = "InstanceCreditSpecification.NotSupported", 400;
    InvalidLaunchTemplateId_Malformed = "InvalidLaunchTemplateId.Malformed", 400;
    InvalidLaunchTemplateId_NotFound = "InvalidLaunchTemplateId.NotFound", 400;
    InvalidLaunchTemplateId_VersionNotFound = "InvalidLaunchTemplateId.VersionNotFound", 400;
    InvalidLaunchTemplateName_AlreadyExistsException = "InvalidLaunchTemplateName.AlreadyExistsException", 400;
    InvalidLaunchTemplateName_MalformedException = "InvalidLaunchTemplateName.MalformedException", 400;
    InvalidLaunchTemplateName_NotFoundException = "InvalidLaunchTemplateName.NotFoundException", 400;
    SsmInvalidParameter = "SsmInvalidParameter", 400;
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ec2Error {
    pub code: Code,
    pub message: String,
}

pub type Result<T, E = Ec2Error> = std::result::Result<T, E>;

/// Builds an `Ec2Error` from a code variant and a `format!`-style message:
/// `ec2_err!(InvalidParameterValue, "Value ({v}) for parameter {name} is invalid.")`.
#[macro_export]
macro_rules! ec2_err {
    ($code:ident, $($arg:tt)+) => {
        $crate::error::Ec2Error::new($crate::error::Code::$code, format!($($arg)+))
    };
}

impl Ec2Error {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Ec2Error { code, message: message.into() }
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    pub fn missing_parameter(name: &str) -> Self {
        ec2_err!(MissingParameter, "The request must contain the parameter {name}")
    }

    pub fn invalid_value(name: &str, value: &str) -> Self {
        ec2_err!(InvalidParameterValue, "Invalid value '{value}' for {name}")
    }

    pub fn dry_run() -> Self {
        Ec2Error::new(Code::DryRunOperation, "Request would have succeeded, but DryRun flag is set.")
    }

    pub fn internal() -> Self {
        Ec2Error::new(Code::InternalError, "An internal error has occurred. Please try again later.")
    }
}

/// The refusals EC2 gives for each kind of resource, in one place so that the same
/// mistake reads the same wherever it is made.
impl Ec2Error {
    pub fn image_not_found(image_ids: &[&str]) -> Self {
        match image_ids {
            [one] => ec2_err!(InvalidAMIID_NotFound, "The image id '[{one}]' does not exist"),
            many => ec2_err!(InvalidAMIID_NotFound, "The image ids '[{}]' do not exist", many.join(", ")),
        }
    }

    /// Someone else's image, asked for by an action only its owner may take.
    pub fn image_not_owned(image_id: &str) -> Self {
        ec2_err!(AuthFailure, "Not authorized for image:{image_id}")
    }

    /// An image that exists but was not shared with the caller, at launch.
    pub fn images_not_launchable(image_ids: &[&str]) -> Self {
        ec2_err!(AuthFailure, "Not authorized for images: [{}]", image_ids.join(", "))
    }

    pub fn image_unavailable(image_id: &str, state: &str) -> Self {
        if state == "pending" {
            ec2_err!(
                InvalidAMIID_Unavailable,
                "The AMI ID '{image_id}' is currently pending and may not be used for this operation"
            )
        } else {
            ec2_err!(InvalidAMIID_Unavailable, "The image ID '{image_id}' is no longer available")
        }
    }

    pub fn snapshot_not_found(snapshot_id: &str) -> Self {
        ec2_err!(InvalidSnapshot_NotFound, "The snapshot '{snapshot_id}' does not exist.")
    }

    pub fn volume_not_found(volume_id: &str) -> Self {
        ec2_err!(InvalidVolume_NotFound, "The volume '{volume_id}' does not exist.")
    }

    pub fn instance_not_found(instance_ids: &[&str]) -> Self {
        match instance_ids {
            [one] => ec2_err!(InvalidInstanceID_NotFound, "The instance ID '{one}' does not exist"),
            many => ec2_err!(InvalidInstanceID_NotFound, "The instance IDs '{}' do not exist", many.join(", ")),
        }
    }

    pub fn key_pair_not_found(name: &str) -> Self {
        ec2_err!(InvalidKeyPair_NotFound, "The key pair '{name}' does not exist")
    }

    pub fn key_pair_duplicate(name: &str) -> Self {
        ec2_err!(InvalidKeyPair_Duplicate, "The keypair '{name}' already exists.")
    }

    /// A visible resource of another account, asked for by an owner-only action.
    pub fn not_owner() -> Self {
        ec2_err!(UnauthorizedOperation, "You are not authorized to perform this operation.")
    }

    pub fn malformed_user(value: &str) -> Self {
        ec2_err!(InvalidUserID_Malformed, "Invalid user id: \"{value}\"")
    }

    /// An image would be made public while block public access for AMIs is on.
    pub fn image_sharing_blocked() -> Self {
        ec2_err!(
            OperationNotPermitted,
            "You can't publicly share this image because block public access for AMIs is enabled for this account. To publicly share the image, you must call the DisableImageBlockPublicAccess API."
        )
    }

    pub fn snapshot_sharing_blocked() -> Self {
        ec2_err!(
            OperationNotPermitted,
            "You can't publicly share this snapshot because block public access for snapshots is enabled for this account. To publicly share the snapshot, you must call the DisableSnapshotBlockPublicAccess API."
        )
    }

    /// A ClientToken already used by a different request.
    pub fn client_token_reused(token: &str) -> Self {
        ec2_err!(IdempotentParameterMismatch, "Client token '{token}' was already used with different parameters.")
    }

    /// KmsKeyId given without Encrypted=true: the same answer for volumes, snapshots,
    /// copies and imports.
    pub fn kms_key_without_encryption() -> Self {
        ec2_err!(InvalidParameterDependency, "The parameter KmsKeyId requires the parameter Encrypted to be set.")
    }
}

impl std::fmt::Display for Ec2Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Ec2Error {}

impl From<sqlx::Error> for Ec2Error {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "database error");
        Ec2Error::internal()
    }
}

/// An error of the EBS direct APIs (REST-JSON): an exception type, an optional reason
/// from the type's enumeration, a message and the HTTP status the model gives the type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EbsError {
    pub kind: &'static str,
    pub reason: Option<&'static str>,
    pub message: String,
}

impl EbsError {
    pub fn validation(reason: &'static str, message: impl Into<String>) -> Self {
        EbsError { kind: "ValidationException", reason: Some(reason), message: message.into() }
    }

    /// A request that is not one of the API's: a body that cannot be read, a path or
    /// method no operation has.
    pub fn malformed_request(message: impl Into<String>) -> Self {
        EbsError { kind: "ValidationException", reason: None, message: message.into() }
    }

    pub fn snapshot_not_found(snapshot_id: &str) -> Self {
        EbsError {
            kind: "ResourceNotFoundException",
            reason: Some("SNAPSHOT_NOT_FOUND"),
            message: format!("The snapshot '{snapshot_id}' does not exist."),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        EbsError { kind: "ConflictException", reason: None, message: message.into() }
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        EbsError { kind: "AccessDeniedException", reason: Some("UNAUTHORIZED_ACCOUNT"), message: message.into() }
    }

    pub fn internal() -> Self {
        EbsError { kind: "InternalServerException", reason: None, message: "An internal error has occurred.".into() }
    }

    /// A stored block whose content no longer matches its checksum: a server fault,
    /// answered instead of the wrong bytes.
    pub fn damaged_block(snapshot_id: &str, block_index: i64) -> Self {
        EbsError {
            kind: "InternalServerException",
            reason: None,
            message: format!("Block {block_index} of {snapshot_id} is damaged in storage and cannot be read."),
        }
    }

    pub fn status(&self) -> u16 {
        match self.kind {
            "AccessDeniedException" | "InvalidSignatureException" | "UnrecognizedClientException" => 403,
            "ResourceNotFoundException" => 404,
            "ConflictException" => 409,
            "ServiceQuotaExceededException" => 402,
            "InternalServerException" => 500,
            _ => 400,
        }
    }
}

impl From<sqlx::Error> for EbsError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "database error");
        EbsError::internal()
    }
}

impl From<std::io::Error> for EbsError {
    fn from(err: std::io::Error) -> Self {
        tracing::error!(error = %err, "block storage error");
        EbsError::internal()
    }
}

/// EC2-side failures met while serving an EBS call (authentication, region checks,
/// store errors) keep their code as the exception type.
impl From<Ec2Error> for EbsError {
    fn from(err: Ec2Error) -> Self {
        let kind = match err.code {
            Code::SignatureDoesNotMatch | Code::IncompleteSignature | Code::RequestExpired => {
                "InvalidSignatureException"
            }
            Code::AuthFailure => "UnrecognizedClientException",
            Code::InternalError => "InternalServerException",
            _ => "ValidationException",
        };
        EbsError { kind, reason: None, message: err.message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_spelt_as_variants() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(format!("{code:?}"), code.as_str().replace('.', "_"));
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(Code::AuthFailure.status(), 401);
        assert_eq!(Code::DryRunOperation.status(), 412);
        assert_eq!(Code::InternalError.status(), 500);
        assert_eq!(Code::InvalidAMIID_NotFound.status(), 400);
    }
}
