//! The instance metadata service as containers see it at `http://169.254.169.254`:
//! IMDSv2 only (instances report `httpTokens=required`), so every read needs a token
//! from `PUT /latest/api/token`. The host serves it: ec2lite puts 169.254.169.254/32 on
//! the host's loopback interface, a container's packets to it leave through the podman
//! bridge and reach this listener with the container's bridge address as their source,
//! which names the instance (as EC2 knows the caller by its network interface).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// Where EC2 serves instance metadata.
pub const ADDRESS: &str = "169.254.169.254";

/// What an instance's metadata says: the same values DescribeInstances gives.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub instance_id: String,
    pub account_id: String,
    pub image_id: String,
    pub instance_type: String,
    pub architecture: String,
    pub region: String,
    pub availability_zone: String,
    pub private_ip: String,
    pub public_ip: String,
    pub reservation_id: String,
    pub launch_index: i64,
    pub security_groups: Vec<String>,
    /// (key name, OpenSSH public key) of the key pair it was launched with.
    pub key: Option<(String, String)>,
    pub user_data: Option<Vec<u8>>,
    /// Launch time, RFC 3339.
    pub pending_time: String,
}

/// The instances that can ask, by their container's address, and the tokens given.
#[derive(Default)]
pub struct Registry {
    by_instance: Mutex<HashMap<String, Arc<Metadata>>>,
    by_address: Mutex<HashMap<IpAddr, String>>,
    /// Token → (instance id, expiry).
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl Registry {
    pub fn set_metadata(&self, metadata: Metadata) {
        let id = metadata.instance_id.clone();
        self.by_instance.lock().expect("lock").insert(id, Arc::new(metadata));
    }

    /// The container of `instance_id` now has `address` (it changes when it starts again).
    pub fn set_address(&self, instance_id: &str, address: IpAddr) {
        let mut by_address = self.by_address.lock().expect("lock");
        by_address.retain(|_, id| id != instance_id);
        by_address.insert(address, instance_id.to_string());
    }

    pub fn forget(&self, instance_id: &str) {
        self.by_instance.lock().expect("lock").remove(instance_id);
        self.by_address.lock().expect("lock").retain(|_, id| id != instance_id);
        self.tokens.lock().expect("lock").retain(|_, (id, _)| id != instance_id);
    }

    pub fn forget_all(&self) {
        self.by_instance.lock().expect("lock").clear();
        self.by_address.lock().expect("lock").clear();
        self.tokens.lock().expect("lock").clear();
    }

    fn caller(&self, address: IpAddr) -> Option<Arc<Metadata>> {
        let id = self.by_address.lock().expect("lock").get(&address)?.clone();
        self.by_instance.lock().expect("lock").get(&id).cloned()
    }

    /// The caller, waiting a little for a container that has just started (its user
    /// data may ask before its address is recorded).
    async fn wait_for_caller(&self, address: IpAddr) -> Option<Arc<Metadata>> {
        for _ in 0..30 {
            if let Some(metadata) = self.caller(address) {
                return Some(metadata);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }

    fn issue_token(&self, instance_id: &str, ttl: Duration) -> String {
        let token = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, rand::random::<[u8; 42]>());
        let now = Instant::now();
        let mut tokens = self.tokens.lock().expect("lock");
        tokens.retain(|_, (_, expiry)| *expiry > now);
        tokens.insert(token.clone(), (instance_id.to_string(), now + ttl));
        token
    }

    fn token_is_valid(&self, token: &str, instance_id: &str) -> bool {
        let tokens = self.tokens.lock().expect("lock");
        tokens.get(token).is_some_and(|(id, expiry)| id == instance_id && *expiry > Instant::now())
    }
}

/// Serves the metadata of `registry`'s instances on 169.254.169.254:80, putting that
/// address on `lo` first when the host does not have it. Logs and gives up (instances
/// run without metadata) when it cannot.
pub async fn serve(registry: Arc<Registry>) {
    if let Err(why) = ensure_address().await {
        return tracing::warn!(error = %why, "instance metadata is not served: {ADDRESS} could not be added to lo");
    }
    let listener = match tokio::net::TcpListener::bind((ADDRESS, 80)).await {
        Ok(listener) => listener,
        Err(why) => return tracing::warn!(error = %why, "instance metadata is not served: binding {ADDRESS}:80 failed"),
    };
    tracing::info!("instance metadata served on http://{ADDRESS}/");
    let app = axum::Router::new().fallback(handle).with_state(registry);
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    if let Err(why) = axum::serve(listener, service).await {
        tracing::warn!(error = %why, "the instance metadata service stopped");
    }
}

async fn ensure_address() -> Result<(), String> {
    let shown =
        super::run_output("ip", &["-4".as_ref(), "addr".as_ref(), "show".as_ref(), "dev".as_ref(), "lo".as_ref()])
            .await?;
    if shown.contains(&format!("inet {ADDRESS}/")) {
        return Ok(());
    }
    let address = format!("{ADDRESS}/32");
    super::run_output("ip", &["addr".as_ref(), "add".as_ref(), address.as_ref(), "dev".as_ref(), "lo".as_ref()])
        .await
        .map(|_| ())
}

async fn handle(
    State(registry): State<Arc<Registry>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    // Only instances ask; anyone else is not found, as on EC2 off an instance.
    let Some(metadata) = registry.wait_for_caller(peer.ip()).await else { return status(StatusCode::NOT_FOUND) };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if uri.path() == "/latest/api/token" {
        if method != Method::PUT {
            return status(StatusCode::METHOD_NOT_ALLOWED);
        }
        // A token request that went through a proxy is refused (IMDSv2's SSRF guard).
        if headers.contains_key("x-forwarded-for") {
            return status(StatusCode::FORBIDDEN);
        }
        let ttl = header("x-aws-ec2-metadata-token-ttl-seconds").and_then(|t| t.parse::<u64>().ok());
        let Some(ttl) = ttl.filter(|t| (1..=21_600).contains(t)) else { return status(StatusCode::BAD_REQUEST) };
        let token = registry.issue_token(&metadata.instance_id, Duration::from_secs(ttl));
        return ([("x-aws-ec2-metadata-token-ttl-seconds", ttl.to_string())], token).into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return status(StatusCode::METHOD_NOT_ALLOWED);
    }
    let token = header("x-aws-ec2-metadata-token");
    if !token.is_some_and(|t| registry.token_is_valid(t, &metadata.instance_id)) {
        return status(StatusCode::UNAUTHORIZED);
    }
    match answer(&metadata, uri.path()) {
        Some(Answer::Text(text)) => ([("content-type", "text/plain")], text).into_response(),
        Some(Answer::Bytes(bytes)) => ([("content-type", "application/octet-stream")], bytes).into_response(),
        Some(Answer::Json(text)) => ([("content-type", "application/json")], text).into_response(),
        None => status(StatusCode::NOT_FOUND),
    }
}

fn status(code: StatusCode) -> Response {
    (code, code.canonical_reason().unwrap_or_default().to_string()).into_response()
}

#[derive(Debug, PartialEq)]
enum Answer {
    Text(String),
    Bytes(Vec<u8>),
    Json(String),
}

/// What `path` holds for the instance: a value, or a listing (a name per line, folders
/// with a trailing `/`). Any version (`latest`, `2021-07-15`, …) serves the same.
fn answer(metadata: &Metadata, path: &str) -> Option<Answer> {
    let text = |s: &str| Some(Answer::Text(s.to_string()));
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        return text("latest");
    }
    let (_version, rest) = path.split_once('/').unwrap_or((path, ""));
    let m = metadata;
    let hostname = format!("ip-{}.{}", m.private_ip.replace('.', "-"), internal_domain(&m.region));
    match rest {
        "" => text("dynamic\nmeta-data\nuser-data"),
        "user-data" => m.user_data.clone().map(Answer::Bytes),
        "meta-data" | "meta-data/" => text(META_DATA),
        "meta-data/ami-id" => text(&m.image_id),
        "meta-data/ami-launch-index" => text(&m.launch_index.to_string()),
        "meta-data/hostname" | "meta-data/local-hostname" => text(&hostname),
        "meta-data/instance-id" => text(&m.instance_id),
        "meta-data/instance-type" => text(&m.instance_type),
        "meta-data/local-ipv4" => text(&m.private_ip),
        "meta-data/public-ipv4" => text(&m.public_ip),
        "meta-data/reservation-id" => text(&m.reservation_id),
        "meta-data/security-groups" => text(&m.security_groups.join("\n")),
        "meta-data/placement" | "meta-data/placement/" => text("availability-zone\nregion"),
        "meta-data/placement/availability-zone" => text(&m.availability_zone),
        "meta-data/placement/region" => text(&m.region),
        "meta-data/public-keys" | "meta-data/public-keys/" => {
            m.key.as_ref().map(|(name, _)| Answer::Text(format!("0={name}")))
        }
        "meta-data/public-keys/0" | "meta-data/public-keys/0/" => {
            m.key.as_ref().map(|_| Answer::Text("openssh-key".into()))
        }
        "meta-data/public-keys/0/openssh-key" => {
            m.key.as_ref().map(|(_, key)| Answer::Text(format!("{}\n", key.trim())))
        }
        "dynamic" | "dynamic/" => text("instance-identity/"),
        "dynamic/instance-identity" | "dynamic/instance-identity/" => text("document"),
        "dynamic/instance-identity/document" => Some(Answer::Json(identity_document(m))),
        _ => None,
    }
}

const META_DATA: &str = "ami-id\nami-launch-index\nhostname\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nplacement/\npublic-ipv4\npublic-keys/\nreservation-id\nsecurity-groups";

fn internal_domain(region: &str) -> String {
    if region == "us-east-1" {
        "ec2.internal".into()
    } else {
        format!("{region}.compute.internal")
    }
}

/// The instance identity document, as SDKs read their region and account from it.
fn identity_document(m: &Metadata) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "accountId": m.account_id,
        "architecture": m.architecture,
        "availabilityZone": m.availability_zone,
        "billingProducts": null,
        "devpayProductCodes": null,
        "marketplaceProductCodes": null,
        "imageId": m.image_id,
        "instanceId": m.instance_id,
        "instanceType": m.instance_type,
        "kernelId": null,
        "pendingTime": m.pending_time,
        "privateIp": m.private_ip,
        "ramdiskId": null,
        "region": m.region,
        "version": "2017-09-30",
    }))
    .expect("a JSON object")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> Metadata {
        Metadata {
            instance_id: "i-0123456789abcdef0".into(),
            account_id: "000000000000".into(),
            image_id: "ami-0abcdef1234567890".into(),
            instance_type: "t3.micro".into(),
            architecture: "x86_64".into(),
            region: "eu-west-1".into(),
            availability_zone: "eu-west-1a".into(),
            private_ip: "172.31.0.10".into(),
            public_ip: "127.0.100.2".into(),
            reservation_id: "r-0123456789abcdef0".into(),
            security_groups: vec!["default".into(), "web".into()],
            key: Some(("mine".into(), "ssh-ed25519 AAAA mine".into())),
            user_data: Some(b"#!/bin/sh\n".to_vec()),
            pending_time: "2026-12-05T08:00:00Z".into(),
            ..Metadata::default()
        }
    }

    fn text(s: &str) -> Option<Answer> {
        Some(Answer::Text(s.into()))
    }

    #[test]
    fn values_and_listings_follow_the_metadata_tree() {
        let m = metadata();
        assert_eq!(answer(&m, "/latest/meta-data/instance-id"), text("i-0123456789abcdef0"));
        assert_eq!(answer(&m, "/2021-07-15/meta-data/placement/region"), text("eu-west-1"));
        assert_eq!(answer(&m, "/latest/meta-data/placement/"), text("availability-zone\nregion"));
        assert_eq!(answer(&m, "/latest/meta-data/public-keys/"), text("0=mine"));
        assert_eq!(answer(&m, "/latest/meta-data/public-keys/0/openssh-key"), text("ssh-ed25519 AAAA mine\n"));
        assert_eq!(answer(&m, "/latest/meta-data/security-groups"), text("default\nweb"));
        assert_eq!(answer(&m, "/latest/meta-data/hostname"), text("ip-172-31-0-10.eu-west-1.compute.internal"));
        assert_eq!(answer(&m, "/latest/user-data"), Some(Answer::Bytes(b"#!/bin/sh\n".to_vec())));
        assert_eq!(answer(&m, "/latest/meta-data/iam/info"), None);
        assert!(
            answer(&m, "/latest/meta-data/").is_some_and(|a| matches!(a, Answer::Text(t) if t.contains("placement/")))
        );
    }

    #[test]
    fn no_key_and_no_user_data_are_not_found() {
        let m = Metadata { key: None, user_data: None, ..metadata() };
        assert_eq!(answer(&m, "/latest/meta-data/public-keys/"), None);
        assert_eq!(answer(&m, "/latest/user-data"), None);
    }

    #[test]
    fn the_identity_document_names_region_and_account() {
        let Some(Answer::Json(doc)) = answer(&metadata(), "/latest/dynamic/instance-identity/document") else {
            panic!("no document")
        };
        let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(doc["region"], "eu-west-1");
        assert_eq!(doc["accountId"], "000000000000");
        assert_eq!(doc["instanceId"], "i-0123456789abcdef0");
    }

    #[test]
    fn tokens_belong_to_one_instance_and_expire() {
        let registry = Registry::default();
        let token = registry.issue_token("i-a", Duration::from_secs(60));
        assert!(registry.token_is_valid(&token, "i-a"));
        assert!(!registry.token_is_valid(&token, "i-b"));
        let expired = registry.issue_token("i-a", Duration::ZERO);
        assert!(!registry.token_is_valid(&expired, "i-a"));
        registry.forget("i-a");
        assert!(!registry.token_is_valid(&token, "i-a"));
    }
}
