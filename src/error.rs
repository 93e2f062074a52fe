//! The one error type of ec2lite: an EC2 error code, its message and its HTTP status.
//!
//! Every layer returns `Ec2Error`; the wire layer renders it as EC2's error envelope.
//! Anything unexpected (a database fault) becomes `InternalError`, logged but never leaked.

use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ec2Error {
    pub code: Cow<'static, str>,
    pub message: String,
}

pub type Result<T, E = Ec2Error> = std::result::Result<T, E>;

/// Builds an `Ec2Error` from a code and a `format!`-style message.
#[macro_export]
macro_rules! ec2_err {
    ($code:expr, $($arg:tt)+) => {
        $crate::error::Ec2Error::new($code, format!($($arg)+))
    };
}

impl Ec2Error {
    pub fn new(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Ec2Error { code: code.into(), message: message.into() }
    }

    /// The HTTP status EC2 uses for this code: 400 unless the code is one of the few
    /// that real EC2 answers differently (clients retry 5xx, so validation stays 4xx).
    pub fn status(&self) -> u16 {
        match self.code.as_ref() {
            "AuthFailure" => 401,
            "UnauthorizedOperation" | "SignatureDoesNotMatch" => 403,
            "DryRunOperation" => 412,
            "RequestEntityTooLarge" => 413,
            "InternalError" => 500,
            "RequestLimitExceeded" | "ServiceUnavailable" => 503,
            _ => 400,
        }
    }

    pub fn missing_parameter(name: &str) -> Self {
        ec2_err!("MissingParameter", "The request must contain the parameter {name}")
    }

    pub fn invalid_value(name: &str, value: &str) -> Self {
        ec2_err!("InvalidParameterValue", "Invalid value '{value}' for {name}")
    }

    pub fn dry_run() -> Self {
        Ec2Error::new("DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
    }

    pub fn internal() -> Self {
        Ec2Error::new("InternalError", "An internal error has occurred. Please try again later.")
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
        let kind = match err.code.as_ref() {
            "SignatureDoesNotMatch" | "IncompleteSignature" | "RequestExpired" => "InvalidSignatureException",
            "AuthFailure" => "UnrecognizedClientException",
            "InternalError" => "InternalServerException",
            _ => "ValidationException",
        };
        EbsError { kind, reason: None, message: err.message }
    }
}
