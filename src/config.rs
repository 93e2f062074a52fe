//! Settings: command-line flags, each with an `EC2LITE_*` environment twin.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::store::Location;

#[derive(Debug, Clone, Parser)]
#[command(name = "ec2lite", version, about = "An AWS-compatible EC2/AMI control-plane emulator")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "EC2LITE_LISTEN", default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,

    /// Ask the server listening on --listen for `/_ec2lite/health` and exit 0 if it
    /// answers `ok`, 1 otherwise (the container image's HEALTHCHECK; it has no curl).
    #[arg(long)]
    pub health_check: bool,

    /// Directory holding the SQLite database (`ec2lite.db`).
    #[arg(long, env = "EC2LITE_DATA_DIR", default_value = "./.ec2lite")]
    pub data_dir: PathBuf,

    /// SQLite URL or file path; overrides --data-dir.
    #[arg(long, env = "EC2LITE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Keep everything in memory; nothing survives the process.
    #[arg(long, env = "EC2LITE_IN_MEMORY", conflicts_with_all = ["database_url"])]
    pub in_memory: bool,

    /// Region for requests that carry no SigV4 credential scope.
    #[arg(long, env = "EC2LITE_DEFAULT_REGION", default_value = "us-east-1")]
    pub default_region: String,

    /// How long a new image stays `pending`, in milliseconds (0: until the next request).
    #[arg(long, env = "EC2LITE_IMAGE_PENDING_MS", default_value_t = 0)]
    pub image_pending_ms: u64,

    /// How long a new snapshot stays `pending`, in milliseconds.
    #[arg(long, env = "EC2LITE_SNAPSHOT_PENDING_MS", default_value_t = 0)]
    pub snapshot_pending_ms: u64,

    /// How long a new volume stays `creating`, in milliseconds.
    #[arg(long, env = "EC2LITE_VOLUME_CREATING_MS", default_value_t = 0)]
    pub volume_creating_ms: u64,

    /// How long a new or started instance stays `pending`, in milliseconds.
    #[arg(long, env = "EC2LITE_INSTANCE_PENDING_MS", default_value_t = 0)]
    pub instance_pending_ms: u64,

    /// How long a stopping instance stays `stopping`, in milliseconds.
    #[arg(long, env = "EC2LITE_INSTANCE_STOPPING_MS", default_value_t = 0)]
    pub instance_stopping_ms: u64,

    /// How long a terminating instance stays `shutting-down`, in milliseconds.
    #[arg(long, env = "EC2LITE_INSTANCE_SHUTTING_DOWN_MS", default_value_t = 0)]
    pub instance_shutting_down_ms: u64,

    /// How long terminated instances stay describable, in milliseconds (EC2: about an hour).
    #[arg(long, env = "EC2LITE_TERMINATED_RETENTION_MS", default_value_t = 3_600_000)]
    pub terminated_retention_ms: u64,

    /// Launch any well-formed but unknown AMI id (as lenient emulators do) instead of
    /// refusing it with InvalidAMIID.NotFound as EC2 does.
    #[arg(long, env = "EC2LITE_ACCEPT_UNKNOWN_IMAGES")]
    pub accept_unknown_images: bool,

    /// A JSON file of accounts, their access keys and secrets, and their organizations
    /// and OUs (see `domain::accounts`). Without it a 12-digit access key is its account.
    #[arg(long, env = "EC2LITE_ACCOUNTS")]
    pub accounts: Option<PathBuf>,

    /// Refuse requests without a valid SigV4 signature made with a secret from the
    /// accounts file (AuthFailure / SignatureDoesNotMatch, as EC2 answers).
    #[arg(long, env = "EC2LITE_VERIFY_SIGNATURES", requires = "accounts")]
    pub verify_signatures: bool,

    /// The token ec2lite's mutating endpoints (reset, sweep, fail, marketplace) require,
    /// as `Authorization: Bearer <token>` or `X-Ec2lite-Admin-Token`. Without it they
    /// are open, unless --verify-signatures is on: then they are off.
    #[arg(long, env = "EC2LITE_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// `normal`: what was acknowledged survives a crash or kill -9 of the process.
    /// `full`: also a power loss or OS crash (SQLite synchronous=FULL, block files and
    /// their directories fsynced), at the cost of a sync per write.
    #[arg(long, env = "EC2LITE_DURABILITY", default_value = "normal", value_parser = ["normal", "full"])]
    pub durability: String,

    /// On SIGTERM or Ctrl-C, how long requests in flight may take to finish, in seconds;
    /// past it ec2lite stops without them (a stalled client cannot hold it up forever).
    #[arg(long, env = "EC2LITE_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,

    /// At most this many open connections; more wait in the listen backlog until one closes.
    #[arg(long, env = "EC2LITE_MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: usize,

    /// A connection whose next byte takes longer than this many seconds is closed: a
    /// stalled or trickling request, or a keep-alive connection left idle.
    #[arg(long, env = "EC2LITE_READ_TIMEOUT_SECS", default_value_t = 120)]
    pub read_timeout_secs: u64,

    /// Memory for answers of describe calls, kept until the next write (MiB). Set 0 when
    /// several ec2lite processes share one database file: another process's writes do
    /// not clear this one's cache.
    #[arg(long, env = "EC2LITE_READ_CACHE_MIB", default_value_t = 32)]
    pub read_cache_mib: u64,

    /// Do not load the built-in public image catalog.
    #[arg(long, env = "EC2LITE_NO_CATALOG")]
    pub no_catalog: bool,

    /// A catalog file (JSON, the format of `catalog/default.json`) whose images are added
    /// to every region; repeatable. With --no-catalog it replaces the built-in one.
    #[arg(long = "catalog", env = "EC2LITE_CATALOG", value_delimiter = ',')]
    pub catalog_files: Vec<PathBuf>,

    /// How often stored blocks that nothing refers to any more are removed, in seconds
    /// (also done at start-up and by `POST /_ec2lite/sweep`).
    #[arg(long, env = "EC2LITE_BLOCK_SWEEP_SECS", default_value_t = 300)]
    pub block_sweep_secs: u64,

    /// An S3-compatible endpoint (path-style, e.g. `http://127.0.0.1:9000`) from which
    /// ImportImage / ImportSnapshot read `s3://bucket/key` and `UserBucket` disk images.
    #[arg(long, env = "EC2LITE_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// Access key for --s3-endpoint (requests are SigV4-signed).
    #[arg(long, env = "EC2LITE_S3_ACCESS_KEY_ID", default_value = "test")]
    pub s3_access_key_id: String,

    /// Secret key for --s3-endpoint.
    #[arg(long, env = "EC2LITE_S3_SECRET_ACCESS_KEY", default_value = "test", hide_env_values = true)]
    pub s3_secret_access_key: String,

    /// Region to sign --s3-endpoint requests for.
    #[arg(long, env = "EC2LITE_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    /// Least time each step of an import task (validated, converting, ...) takes, in
    /// milliseconds, to watch tasks go through their states.
    #[arg(long, env = "EC2LITE_IMPORT_STEP_MS", default_value_t = 0)]
    pub import_step_ms: u64,

    /// The account of unsigned requests and of access keys such as `test` that are not
    /// 12-digit account ids (`000000000000` as LocalStack; moto uses `123456789012`).
    #[arg(long, env = "EC2LITE_DEFAULT_ACCOUNT", default_value = "000000000000")]
    pub default_account: String,

    /// `text`, or `json`: one JSON object per line (per request: action, account, region,
    /// outcome, latency_us).
    #[arg(long, env = "EC2LITE_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// `podman`: instances of Linux AMIs really run, one container each, reachable over
    /// SSH on a loopback public IP. Off by default: instances are rows only.
    #[arg(long, env = "EC2LITE_RUNTIME", value_parser = ["podman"])]
    pub runtime: Option<String>,

    /// The base root filesystem (a directory) of catalog Linux AMIs under --runtime,
    /// as built by `scripts/runtime-rootfs.sh`.
    #[arg(long, env = "EC2LITE_RUNTIME_ROOTFS", default_value = "/root/.cache/ec2lite-ci/runtime/current")]
    pub runtime_rootfs: PathBuf,

    /// A file mapping AMI name patterns to other root filesystems (directories or
    /// `podman:<image>`) for their instances under --runtime; see README.
    #[arg(long, env = "EC2LITE_RUNTIME_IMAGES")]
    pub runtime_images: Option<PathBuf>,

    /// Containers get the instance type's vCPUs and memory times this factor.
    #[arg(long, env = "EC2LITE_RUNTIME_RESOURCE_FACTOR", default_value_t = 0.25)]
    pub runtime_resource_factor: f64,

    /// Log filter: a default level and per-target levels, e.g. `info` or `warn,ec2lite=debug`.
    #[arg(long, env = "EC2LITE_LOG", default_value = "info")]
    pub log: String,
}

impl Config {
    pub fn location(&self) -> Location {
        if self.in_memory {
            Location::InMemory
        } else if let Some(url) = &self.database_url {
            Location::Url(url.clone())
        } else {
            Location::Url(self.data_dir.join("ec2lite.db").to_string_lossy().into_owned())
        }
    }
}

/// How long resources stay in their transitional states.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    pub image_pending_ms: i64,
    pub snapshot_pending_ms: i64,
    pub volume_creating_ms: i64,
    pub instance_pending_ms: i64,
    pub instance_stopping_ms: i64,
    pub instance_shutting_down_ms: i64,
    pub terminated_retention_ms: i64,
    pub accept_unknown_images: bool,
}

impl From<&Config> for Timings {
    fn from(c: &Config) -> Self {
        let ms = |v: u64| v.min(i64::MAX as u64) as i64;
        Timings {
            image_pending_ms: ms(c.image_pending_ms),
            snapshot_pending_ms: ms(c.snapshot_pending_ms),
            volume_creating_ms: ms(c.volume_creating_ms),
            instance_pending_ms: ms(c.instance_pending_ms),
            instance_stopping_ms: ms(c.instance_stopping_ms),
            instance_shutting_down_ms: ms(c.instance_shutting_down_ms),
            terminated_retention_ms: ms(c.terminated_retention_ms),
            accept_unknown_images: c.accept_unknown_images,
        }
    }
}
