//! Key pairs: generated (CreateKeyPair) or imported public keys (ImportKeyPair), with
//! the fingerprints EC2 computes for each kind.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand_core::OsRng;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use sha2::Digest as _;
use ssh_key::public::KeyData;
use ssh_key::{Algorithm, PrivateKey, PublicKey};

use crate::ec2_err;
use crate::error::Result;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPair {
    pub key_pair_id: String,
    pub owner_id: String,
    pub region: String,
    pub key_name: String,
    /// `rsa` or `ed25519`.
    pub key_type: String,
    pub fingerprint: String,
    /// The public key in OpenSSH format (`ssh-rsa AAAA...`).
    pub public_key: String,
    pub create_time: i64,
    pub tags: Vec<(String, String)>,
}

/// A new key pair: what EC2 keeps, and the private key it returns once.
pub struct Generated {
    pub key_type: &'static str,
    pub private_key: String,
    pub public_key: String,
    pub fingerprint: String,
}

/// Key names: 1 to 255 printable ASCII characters.
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 255 || !name.is_ascii() || crate::domain::text::has_control_char(name) {
        return Err(ec2_err!(InvalidParameterValue, "Key pair names are 1 to 255 ASCII characters: '{name}'"));
    }
    Ok(())
}

/// `ab:cd:...`: how EC2 shows SHA-1 and MD5 fingerprints.
fn colon_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

fn internal<E: std::fmt::Display>(err: E) -> crate::error::Ec2Error {
    tracing::error!(error = %err, "key generation");
    crate::error::Ec2Error::internal()
}

/// CreateKeyPair: a 2048-bit RSA key as PKCS#1 PEM (fingerprint: SHA-1 of its PKCS#8
/// DER), or an ED25519 key in OpenSSH format (fingerprint: base64 SHA-256 of the public
/// key).
pub fn generate(key_type: &str, comment: &str) -> Result<Generated> {
    match key_type {
        "rsa" => {
            let private = rsa::RsaPrivateKey::new(&mut OsRng, 2048).map_err(internal)?;
            let pem = private.to_pkcs1_pem(LineEnding::LF).map_err(internal)?;
            let der = private.to_pkcs8_der().map_err(internal)?;
            let public = ssh_key::public::RsaPublicKey::try_from(private.to_public_key()).map_err(internal)?;
            let public = PublicKey::new(KeyData::Rsa(public), comment);
            Ok(Generated {
                key_type: "rsa",
                private_key: pem.to_string(),
                public_key: public.to_openssh().map_err(internal)?,
                fingerprint: colon_hex(&sha1::Sha1::digest(der.as_bytes())),
            })
        }
        _ => {
            let mut private = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).map_err(internal)?;
            private.set_comment(comment);
            let public = private.public_key();
            Ok(Generated {
                key_type: "ed25519",
                private_key: private.to_openssh(ssh_key::LineEnding::LF).map_err(internal)?.to_string(),
                public_key: public.to_openssh().map_err(internal)?,
                fingerprint: sha256_fingerprint(public)?,
            })
        }
    }
}

fn sha256_fingerprint(public: &PublicKey) -> Result<String> {
    let blob = public.to_bytes().map_err(internal)?;
    Ok(STANDARD.encode(sha2::Sha256::digest(&blob)))
}

fn invalid_format() -> crate::error::Ec2Error {
    ec2_err!(InvalidKey_Format, "Key is not in valid OpenSSH public key format")
}

/// ImportKeyPair: an RSA or ED25519 public key in OpenSSH format, the SSH2 format of
/// RFC 4716, or (RSA) PEM / DER SubjectPublicKeyInfo. Returns the key type, the key in
/// OpenSSH format and EC2's fingerprint: for RSA the MD5 of the DER public key (what
/// `openssl pkey -pubout -outform DER | openssl md5 -c` prints, not `ssh-keygen -l`),
/// for ED25519 the base64 SHA-256.
pub fn import(material: &[u8], comment: &str) -> Result<(&'static str, String, String)> {
    let mut public = parse_public(material).ok_or_else(invalid_format)?;
    public.set_comment(comment);
    let (key_type, fingerprint) = match public.key_data() {
        KeyData::Rsa(key) => {
            let der = rsa::RsaPublicKey::try_from(key).map_err(internal)?.to_public_key_der().map_err(internal)?;
            ("rsa", colon_hex(&md5::Md5::digest(der.as_bytes())))
        }
        KeyData::Ed25519(_) => ("ed25519", sha256_fingerprint(&public)?),
        _ => return Err(invalid_format()),
    };
    Ok((key_type, public.to_openssh().map_err(internal)?, fingerprint))
}

fn parse_public(material: &[u8]) -> Option<PublicKey> {
    if let Ok(text) = std::str::from_utf8(material) {
        let text = text.trim();
        if let Ok(key) = PublicKey::from_openssh(text) {
            return Some(key);
        }
        if text.starts_with("---- BEGIN SSH2 PUBLIC KEY ----") {
            return parse_rfc4716(text);
        }
        if let Ok(key) = rsa::RsaPublicKey::from_public_key_pem(text) {
            return rsa_public(key);
        }
    }
    rsa::RsaPublicKey::from_public_key_der(material).ok().and_then(rsa_public)
}

fn rsa_public(key: rsa::RsaPublicKey) -> Option<PublicKey> {
    let key = ssh_key::public::RsaPublicKey::try_from(key).ok()?;
    Some(PublicKey::new(KeyData::Rsa(key), ""))
}

/// `---- BEGIN SSH2 PUBLIC KEY ----`, headers (`Name: value`, `\` continues a line),
/// the base64 key, `---- END SSH2 PUBLIC KEY ----`.
fn parse_rfc4716(text: &str) -> Option<PublicKey> {
    let mut body = String::new();
    let mut in_header = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with("----") {
            continue;
        }
        if in_header || line.contains(':') {
            in_header = line.ends_with('\\');
            continue;
        }
        body.push_str(line);
    }
    let blob = STANDARD.decode(body).ok()?;
    PublicKey::from_bytes(&blob).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ed25519_keys_import_back_with_the_same_fingerprint() {
        let made = generate("ed25519", "k").unwrap();
        assert!(made.private_key.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
        let (key_type, public, fingerprint) = import(made.public_key.as_bytes(), "k").unwrap();
        assert_eq!(
            (key_type, public.as_str(), fingerprint.as_str()),
            ("ed25519", made.public_key.as_str(), made.fingerprint.as_str())
        );
    }

    #[test]
    fn imported_rsa_keys_get_the_md5_of_their_der_public_key() {
        let made = generate("rsa", "k").unwrap();
        assert!(made.private_key.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert_eq!(made.fingerprint.len(), 59, "SHA-1, 20 bytes as colon hex");
        let (key_type, _, fingerprint) = import(made.public_key.as_bytes(), "k").unwrap();
        assert_eq!(key_type, "rsa");
        let parsed = PublicKey::from_openssh(&made.public_key).unwrap();
        let KeyData::Rsa(rsa_key) = parsed.key_data() else { panic!("an RSA key") };
        let der = rsa::RsaPublicKey::try_from(rsa_key).unwrap().to_public_key_der().unwrap();
        assert_eq!(fingerprint, colon_hex(&md5::Md5::digest(der.as_bytes())));
        assert_eq!(fingerprint.len(), 47, "MD5, 16 bytes as colon hex");
        let blob = parsed.to_bytes().unwrap();
        let rfc4716 = format!(
            "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"k\"\n{}\n---- END SSH2 PUBLIC KEY ----\n",
            STANDARD.encode(&blob)
        );
        assert_eq!(import(rfc4716.as_bytes(), "k").unwrap().2, fingerprint);
    }

    #[test]
    fn other_material_is_refused() {
        assert_eq!(import(b"not a key", "k").unwrap_err().code, "InvalidKey.Format");
        assert!(validate_name("").is_err());
        assert!(validate_name(&"k".repeat(256)).is_err());
        assert!(validate_name("ünïcode").is_err());
    }
}
