//! Start-up and shutdown: the store opened and migrated, the shared state built from
//! the configuration, the workers started under one supervisor, the HTTP front served
//! until the shutdown signal, then everything stopped in order.

use std::future::IntoFuture;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::app::{self, App, ImportSettings, S3Source};
use crate::config::{Config, Timings};
use crate::store::blobs::BlobStore;
use crate::store::durability::{self, Durability};
use crate::store::{Location, Store};
use crate::wire::connections::GuardedListener;
use crate::workers::{self, Supervisor};
use crate::{domain, server};

type StartError = Box<dyn std::error::Error>;

/// Opens the store named by `config`, creating the data directory if needed, and
/// refuses to start on a damaged database: serving it could lose more, silently.
pub async fn open_store(config: &Config) -> Result<Store, StartError> {
    let location = config.location();
    if let (Location::Url(_), None, false) = (&location, &config.database_url, config.in_memory) {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|err| format!("the data directory {} cannot be created ({err})", config.data_dir.display()))?;
    }
    let damaged = |detail: String| damaged_message(&location, &detail);
    durability::set(durability(config));
    let file = location.file();
    if let Some(file) = &file {
        durability::check_header(file).map_err(damaged)?;
        // Said plainly here, rather than as SQLite's error on the first write or as
        // "damaged" when the WAL cannot be created.
        check_writable(file.parent().unwrap_or(Path::new(".")))?;
    }
    let existed = file.as_ref().is_some_and(|f| f.exists());
    let store = Store::open(&location).await.map_err(|e| {
        let detail = e.to_string();
        match &file {
            Some(file) if detail.contains("disk is full") => no_space_message(file, &detail),
            _ => damaged(detail),
        }
    })?;
    store.set_read_cache_budget(config.read_cache_mib << 20);
    let size = file.and_then(|f| std::fs::metadata(f).ok()).map_or(0, |m| m.len());
    if !existed {
        // Nothing to check in a database this start created.
    } else if size <= durability::CHECK_BEFORE_SERVING_BYTES {
        let problems = durability::quick_check(&store)?;
        if !problems.is_empty() {
            store.close().await;
            return Err(damaged(format!("integrity check: {}", problems.join("; "))).into());
        }
    } else {
        // A large database is checked while serving; damage found stops the process as
        // it would have stopped start-up (answers so far came from sound pages: SQLite
        // refuses to read a damaged one).
        let checked = store.clone();
        tokio::spawn(async move {
            // On a blocking thread: it reads every page of a large file.
            let problems = tokio::task::spawn_blocking(move || durability::quick_check(&checked).unwrap_or_default())
                .await
                .unwrap_or_default();
            if !problems.is_empty() {
                let message = damaged_message(&location, &format!("integrity check: {}", problems.join("; ")));
                tracing::error!("{message}");
                eprintln!("ec2lite: {message}");
                std::process::exit(1);
            }
        });
    }
    Ok(store)
}

/// Writes and removes a small probe file in `dir`: a read-only or full data directory
/// stops start-up with a message saying which, before anything is opened.
fn check_writable(dir: &Path) -> Result<(), String> {
    let probe = dir.join(format!(".ec2lite-write-check-{}", std::process::id()));
    let written = std::fs::write(&probe, [0u8; 8192]);
    let _ = std::fs::remove_file(&probe);
    match written {
        Ok(()) => Ok(()),
        Err(err) if err.raw_os_error() == Some(28) => Err(no_space_message(dir, &err.to_string())),
        Err(err) => Err(format!(
            "the data directory {} is not writable ({err}); ec2lite needs to write its database there",
            dir.display()
        )),
    }
}

fn no_space_message(at: &Path, detail: &str) -> String {
    format!(
        "no space left for the database at {} ({detail}); nothing was changed: free some space and start again",
        at.display()
    )
}

fn damaged_message(location: &Location, detail: &str) -> String {
    match location {
        Location::Url(url) => format!(
            "the database {url} cannot be used ({detail}); ec2lite stops rather than lose data: \
             restore the file from a backup, or move it away to start empty"
        ),
        Location::InMemory => format!("the in-memory database cannot be opened ({detail})"),
    }
}

fn durability(config: &Config) -> Durability {
    Durability::parse(&config.durability).unwrap_or_default()
}

/// Serves the EC2 API on `listener` until `shutdown` resolves. Shutdown stops taking
/// connections and finishes the requests in flight (for at most
/// `--shutdown-grace-secs`), then stops the workers, then closes the store (which
/// checkpoints the WAL).
pub async fn serve(
    config: &Config,
    store: Store,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let (import_queue, import_jobs) = tokio::sync::mpsc::unbounded_channel();
    let app = Arc::new(build_app(config, store.clone(), import_queue).await?);
    // The default region's catalog is seeded in the background a moment after start,
    // unless a request that needs it seeds it first: a client's readiness probe is not
    // slowed by it, and its first search usually finds it done.
    let seeding = app.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(25)).await;
        let region = seeding.default_region;
        if let Err(err) = seeding.catalog.ensure(&seeding.store, region, domain::clock::now_ms()).await {
            tracing::warn!(error = %err, "seeding the default region's catalog failed; its first request will try again");
        }
    });
    // Blocks left by a crash between writing a block and recording it go now.
    app.sweep_blocks().await?;
    let mut supervisor = Supervisor::default();
    let (sweeper_app, sweep_secs) = (app.clone(), config.block_sweep_secs);
    supervisor.spawn(move |stop| workers::sweep_blocks(sweeper_app, sweep_secs, stop));
    let import_app = app.clone();
    supervisor.spawn(move |stop| workers::import::run_queue(import_app, import_jobs, stop));
    // Import tasks a stop interrupted go on once serving has begun.
    let resuming = app.clone();
    tokio::spawn(async move {
        if let Err(err) = workers::import::resume_open_tasks(&resuming).await {
            tracing::error!(error = %err, "resuming the open import tasks failed");
        }
    });
    let listener =
        GuardedListener::new(listener, config.max_connections, Duration::from_secs(config.read_timeout_secs));
    serve_until(listener, server::router(app), shutdown, Duration::from_secs(config.shutdown_grace_secs)).await?;
    supervisor.shutdown().await;
    store.close().await;
    tracing::info!("ec2lite stopped");
    Ok(())
}

/// Serves `router` until `shutdown`, then lets the requests in flight finish within
/// `grace`; those still running after it are dropped (their transactions, not yet
/// committed, roll back).
async fn serve_until(
    listener: GuardedListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let stopping = Arc::new(tokio::sync::Notify::new());
    let signalled = {
        let stopping = stopping.clone();
        async move {
            shutdown.await;
            tracing::info!("stopping: finishing the requests in flight");
            stopping.notify_one();
        }
    };
    let serving = axum::serve(listener, router).with_graceful_shutdown(signalled).into_future();
    tokio::select! {
        served = serving => served,
        () = async { stopping.notified().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight after the grace period; stopping without them");
            Ok(())
        }
    }
}

/// The HTTP front of a store opened from `config`, without workers, to drive in-process
/// (tests send requests straight to it, with no socket). Import tasks are not run.
pub async fn in_process(config: &Config) -> Result<axum::Router, StartError> {
    let store = open_store(config).await?;
    let (import_queue, _) = tokio::sync::mpsc::unbounded_channel();
    let app = build_app(config, store, import_queue).await?;
    Ok(server::router(Arc::new(app)))
}

/// The state every request shares, from the configuration.
async fn build_app(
    config: &Config,
    store: Store,
    import_queue: tokio::sync::mpsc::UnboundedSender<String>,
) -> Result<App, StartError> {
    let region = domain::regions::find(&config.default_region.to_ascii_lowercase())
        .ok_or_else(|| format!("unknown default region '{}'", config.default_region))?;
    let mut directory = match &config.accounts {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("accounts {}: {e}", path.display()))?;
            domain::accounts::Directory::parse(&text).map_err(|e| format!("accounts {}: {e}", path.display()))?
        }
        None => domain::accounts::Directory::default(),
    };
    if !domain::ids::is_account_id(&config.default_account) {
        return Err(format!("--default-account '{}' is not 12 digits", config.default_account).into());
    }
    directory.default_account = config.default_account.clone();
    store.replace_memberships(&directory.memberships()).await?;
    let blobs = if config.in_memory {
        BlobStore::in_memory()
    } else {
        BlobStore::on_disk(&config.data_dir, durability(config))
            .map_err(|e| format!("block storage in {}: {e}", config.data_dir.display()))?
    };
    let machines = match &config.runtime {
        Some(_) => Some(Arc::new(crate::machines::Machines::new(
            config.runtime_rootfs.clone(),
            image_roots(config)?,
            &config.data_dir,
            config.runtime_resource_factor,
        ))),
        None => None,
    };
    if let Some(machines) = &machines {
        tokio::spawn(crate::machines::imds::serve(machines.metadata_registry()));
        tokio::spawn(crate::actions::machines::reconcile(store.clone(), machines.clone()));
    }
    Ok(App {
        store,
        timings: Timings::from(config),
        default_region: region.name,
        catalog: load_catalog(config)?,
        directory,
        verify_signatures: config.verify_signatures,
        admin: crate::wire::admin::AdminAccess::new(config.admin_token.as_deref(), config.verify_signatures),
        blobs: Arc::new(blobs),
        imports: import_settings(config, import_queue)?,
        machines,
    })
}

/// The `--runtime-images` file's mappings (none without it).
fn image_roots(config: &Config) -> Result<crate::machines::images::ImageRoots, StartError> {
    let Some(path) = &config.runtime_images else { return Ok(Default::default()) };
    let text = std::fs::read_to_string(path).map_err(|e| format!("runtime images {}: {e}", path.display()))?;
    Ok(crate::machines::images::ImageRoots::parse(&text)
        .map_err(|e| format!("runtime images {}: {e}", path.display()))?)
}

fn import_settings(
    config: &Config,
    queue: tokio::sync::mpsc::UnboundedSender<String>,
) -> Result<ImportSettings, StartError> {
    let work_dir = if config.in_memory {
        std::env::temp_dir().join(format!("ec2lite-imports-{}", std::process::id()))
    } else {
        config.data_dir.join("imports")
    };
    let s3 = config.s3_endpoint.as_ref().map(|endpoint| S3Source {
        endpoint: endpoint.clone(),
        access_key_id: config.s3_access_key_id.clone(),
        secret_access_key: config.s3_secret_access_key.clone(),
        region: config.s3_region.clone(),
    });
    Ok(ImportSettings { work_dir, s3, step_ms: config.import_step_ms, http: Default::default(), queue })
}

/// The built-in catalog (unless `--no-catalog`) plus every `--catalog` file.
pub fn load_catalog(config: &Config) -> Result<app::Catalog, StartError> {
    let mut texts = Vec::new();
    if !config.no_catalog {
        texts.push(domain::catalog::DEFAULT_CATALOG.to_string());
    }
    for path in &config.catalog_files {
        let text = std::fs::read_to_string(path).map_err(|e| format!("catalog {}: {e}", path.display()))?;
        texts.push(text);
    }
    let mut entries = Vec::new();
    for (text, source) in
        texts.iter().zip(std::iter::once("built-in").chain(config.catalog_files.iter().map(|_| "file")))
    {
        let file = domain::catalog::parse(text).map_err(|e| format!("{source} catalog: {e}"))?;
        for entry in &file.images {
            domain::image::validate_name(&entry.name).map_err(|e| format!("catalog image {}: {e}", entry.name))?;
        }
        entries.extend(file.images);
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    Ok(app::Catalog::new(entries, domain::catalog::fingerprint(&refs)))
}
