//! The key-pair shapes: `KeyPairInfo` (DescribeKeyPairs), and the answers of
//! CreateKeyPair (with the private key, returned only then) and ImportKeyPair.

use crate::domain::clock::iso;
use crate::domain::key_pair::KeyPair;
use crate::wire::xml::Xml;

/// A `keySet` item; the public key only when asked for (`IncludePublicKey`).
pub fn write_key_pair(x: &mut Xml, k: &KeyPair, include_public_key: bool) {
    x.text("keyPairId", &k.key_pair_id)
        .text("keyType", &k.key_type)
        .tag_set(&k.tags)
        .text("keyName", &k.key_name)
        .text("keyFingerprint", &k.fingerprint);
    if include_public_key {
        x.text("publicKey", &k.public_key);
    }
    x.text("createTime", &iso(k.create_time));
}

pub fn write_created_key_pair(x: &mut Xml, k: &KeyPair, private_key: &str) {
    x.text("keyName", &k.key_name)
        .text("keyFingerprint", &k.fingerprint)
        .text("keyMaterial", private_key)
        .text("keyPairId", &k.key_pair_id)
        .tag_set(&k.tags);
}

pub fn write_imported_key_pair(x: &mut Xml, k: &KeyPair) {
    x.text("keyFingerprint", &k.fingerprint)
        .text("keyName", &k.key_name)
        .text("keyPairId", &k.key_pair_id)
        .tag_set(&k.tags);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> KeyPair {
        KeyPair {
            key_pair_id: "key-0123456789abcdef0".into(),
            owner_id: "000000000000".into(),
            region: "us-east-1".into(),
            key_name: "deploy".into(),
            key_type: "ed25519".into(),
            fingerprint: "abc=".into(),
            public_key: "ssh-ed25519 AAAA deploy".into(),
            create_time: 0,
            tags: vec![("team".into(), "os".into())],
        }
    }

    #[test]
    fn golden_key_pair_with_and_without_public_key() {
        let mut x = Xml::new();
        write_key_pair(&mut x, &key(), false);
        assert_eq!(
            x.as_str(),
            "<keyPairId>key-0123456789abcdef0</keyPairId><keyType>ed25519</keyType>\
             <tagSet><item><key>team</key><value>os</value></item></tagSet><keyName>deploy</keyName>\
             <keyFingerprint>abc=</keyFingerprint><createTime>1970-01-01T00:00:00.000Z</createTime>"
        );
        let mut x = Xml::new();
        write_key_pair(&mut x, &KeyPair { tags: Vec::new(), ..key() }, true);
        assert_eq!(
            x.as_str(),
            "<keyPairId>key-0123456789abcdef0</keyPairId><keyType>ed25519</keyType><tagSet/><keyName>deploy</keyName>\
             <keyFingerprint>abc=</keyFingerprint><publicKey>ssh-ed25519 AAAA deploy</publicKey>\
             <createTime>1970-01-01T00:00:00.000Z</createTime>"
        );
    }

    #[test]
    fn golden_created_key_pair() {
        let mut x = Xml::new();
        write_created_key_pair(&mut x, &key(), "-----BEGIN OPENSSH PRIVATE KEY-----\n...");
        assert_eq!(
            x.as_str(),
            "<keyName>deploy</keyName><keyFingerprint>abc=</keyFingerprint>\
             <keyMaterial>-----BEGIN OPENSSH PRIVATE KEY-----\n...</keyMaterial><keyPairId>key-0123456789abcdef0</keyPairId>\
             <tagSet><item><key>team</key><value>os</value></item></tagSet>"
        );
    }

    #[test]
    fn golden_imported_key_pair() {
        let mut x = Xml::new();
        write_imported_key_pair(&mut x, &KeyPair { tags: Vec::new(), ..key() });
        assert_eq!(
            x.as_str(),
            "<keyFingerprint>abc=</keyFingerprint><keyName>deploy</keyName><keyPairId>key-0123456789abcdef0</keyPairId><tagSet/>"
        );
    }
}
