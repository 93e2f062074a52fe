"""Key pairs through boto3 and aws-cli: CreateKeyPair (RSA and ED25519), ImportKeyPair
of keys made by ssh-keygen, DescribeKeyPairs, DeleteKeyPair, tags, and RunInstances
refusing an unknown KeyName. Fingerprints are checked against what openssl and
ssh-keygen compute, the way AWS documents them."""

from __future__ import annotations

import base64
import subprocess

import pytest
from botocore.exceptions import ClientError

from support import error_code

AL2023_X86 = "al2023-ami-2023.*-kernel-6.1-x86_64"


def run(*command: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(command, input=stdin, capture_output=True, check=True).stdout


def openssl_fingerprint(digest: str, der: bytes) -> str:
    """`openssl <digest> -c` of DER bytes: colon-separated hex."""
    out = run("openssl", "dgst", f"-{digest}", "-c", stdin=der).decode()
    return out.strip().split("= ")[-1]


def expect_error(code: str, call, **params) -> None:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert error_code(caught.value) == code, caught.value.response["Error"]


def catalog_image(ec2) -> str:
    found = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [AL2023_X86]}])["Images"]
    return max(found, key=lambda i: i["CreationDate"])["ImageId"]


def test_created_rsa_key_has_the_sha1_fingerprint_of_its_pkcs8_der(ec2, tmp_path):
    created = ec2.create_key_pair(KeyName="deploy")
    assert created["KeyPairId"].startswith("key-")
    pem = created["KeyMaterial"]
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----")
    # AWS: openssl pkcs8 -in key.pem -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c
    der = run("openssl", "pkcs8", "-inform", "PEM", "-outform", "DER", "-topk8", "-nocrypt", stdin=pem.encode())
    assert created["KeyFingerprint"] == openssl_fingerprint("sha1", der)
    key_file = tmp_path / "deploy.pem"
    key_file.write_text(pem)
    key_file.chmod(0o600)
    public = run("ssh-keygen", "-y", "-f", str(key_file)).decode().split()[:2]
    [described] = ec2.describe_key_pairs(KeyNames=["deploy"], IncludePublicKey=True)["KeyPairs"]
    assert described["PublicKey"].split()[:2] == public
    assert (described["KeyType"], described["KeyFingerprint"]) == ("rsa", created["KeyFingerprint"])


def test_created_ed25519_key_is_an_openssh_key(ec2, tmp_path):
    created = ec2.create_key_pair(KeyName="edge", KeyType="ed25519")
    assert created["KeyMaterial"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    key_file = tmp_path / "edge"
    key_file.write_text(created["KeyMaterial"])
    key_file.chmod(0o600)
    listed = run("ssh-keygen", "-l", "-E", "sha256", "-f", str(key_file)).decode().split()[1]
    assert listed == "SHA256:" + created["KeyFingerprint"].rstrip("=")


def test_imported_keys_get_the_fingerprints_aws_documents(ec2, tmp_path):
    rsa_key = tmp_path / "rsa"
    run("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-f", str(rsa_key))
    imported = ec2.import_key_pair(KeyName="laptop", PublicKeyMaterial=(tmp_path / "rsa.pub").read_bytes())
    # AWS: openssl pkey -in key -pubout -outform DER | openssl md5 -c (not ssh-keygen -l)
    der = run("openssl", "pkey", "-in", str(rsa_key), "-pubout", "-outform", "DER")
    assert imported["KeyFingerprint"] == openssl_fingerprint("md5", der)

    ed_key = tmp_path / "ed"
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ed_key))
    imported = ec2.import_key_pair(KeyName="ed", PublicKeyMaterial=(tmp_path / "ed.pub").read_bytes())
    listed = run("ssh-keygen", "-l", "-E", "sha256", "-f", str(ed_key)).decode().split()[1]
    assert listed == "SHA256:" + imported["KeyFingerprint"].rstrip("=")

    rfc4716 = run("ssh-keygen", "-e", "-f", str(tmp_path / "rsa.pub"))
    again = ec2.import_key_pair(KeyName="laptop-ssh2", PublicKeyMaterial=rfc4716)
    assert again["KeyFingerprint"] == openssl_fingerprint("md5", der)

    names = [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]]
    assert names == ["ed", "laptop", "laptop-ssh2"]


def test_names_are_unique_and_bad_material_is_refused(ec2):
    ec2.create_key_pair(KeyName="once", KeyType="ed25519")
    expect_error("InvalidKeyPair.Duplicate", ec2.create_key_pair, KeyName="once")
    public = ec2.describe_key_pairs(KeyNames=["once"], IncludePublicKey=True)["KeyPairs"][0]["PublicKey"]
    expect_error("InvalidKeyPair.Duplicate", ec2.import_key_pair, KeyName="once", PublicKeyMaterial=public.encode())
    expect_error("InvalidKey.Format", ec2.import_key_pair, KeyName="junk", PublicKeyMaterial=b"not a key")
    expect_error("InvalidKeyPair.NotFound", ec2.describe_key_pairs, KeyNames=["never"])
    assert [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]] == ["once"]


def test_describe_filters_tags_and_delete(ec2):
    tagged = ec2.create_key_pair(
        KeyName="tagged",
        KeyType="ed25519",
        TagSpecifications=[{"ResourceType": "key-pair", "Tags": [{"Key": "team", "Value": "os"}]}],
    )
    ec2.create_key_pair(KeyName="plain")
    by_type = ec2.describe_key_pairs(Filters=[{"Name": "key-type", "Values": ["ed25519"]}])["KeyPairs"]
    assert [k["KeyName"] for k in by_type] == ["tagged"]
    by_tag = ec2.describe_key_pairs(Filters=[{"Name": "tag:team", "Values": ["os"]}])["KeyPairs"]
    assert [(k["KeyName"], k["Tags"]) for k in by_tag] == [("tagged", [{"Key": "team", "Value": "os"}])]
    ec2.create_tags(Resources=[tagged["KeyPairId"]], Tags=[{"Key": "env", "Value": "ci"}])
    [found] = ec2.describe_key_pairs(KeyPairIds=[tagged["KeyPairId"]])["KeyPairs"]
    assert {t["Key"] for t in found["Tags"]} == {"team", "env"}
    assert "PublicKey" not in found and "CreateTime" in found

    assert ec2.delete_key_pair(KeyName="tagged")["Return"] is True
    assert ec2.delete_key_pair(KeyName="tagged")["Return"] is True, "deleting twice is not an error"
    assert [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]] == ["plain"]
    assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [tagged["KeyPairId"]]}])["Tags"] == []


def test_run_instances_needs_an_existing_key(ec2):
    image = catalog_image(ec2)
    expect_error(
        "InvalidKeyPair.NotFound", ec2.run_instances, ImageId=image, KeyName="missing", MinCount=1, MaxCount=1
    )
    assert ec2.describe_instances()["Reservations"] == []
    ec2.create_key_pair(KeyName="present", KeyType="ed25519")
    [instance] = ec2.run_instances(ImageId=image, KeyName="present", MinCount=1, MaxCount=1)["Instances"]
    assert instance["KeyName"] == "present"


def test_aws_cli_import_key_pair_from_a_file(aws, tmp_path):
    key = tmp_path / "cli"
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    code, out = aws("import-key-pair", "--key-name", "cli", "--public-key-material", f"fileb://{key}.pub")
    assert code == 0, out
    code, out = aws("describe-key-pairs", "--key-names", "cli", "--include-public-key")
    assert code == 0, out
    [pair] = out["KeyPairs"]
    assert pair["PublicKey"].split()[:2] == (tmp_path / "cli.pub").read_text().split()[:2]
    assert base64.b64decode(pair["KeyFingerprint"])  # base64 SHA-256
