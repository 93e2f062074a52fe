//! `#cloud-config` user data, as cloud-init runs it at first boot: `write_files`, then
//! `package_update` / `packages`, then `runcmd`, each in that stage's order. The
//! document is turned into one shell script on the host (the base root filesystem has
//! no cloud-init), which the instance's first-boot script runs as root with its output
//! on the console. Other modules are named on the console as not run.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CloudConfig {
    write_files: Vec<WriteFile>,
    package_update: bool,
    package_upgrade: bool,
    packages: Vec<Package>,
    runcmd: Vec<Command>,
    #[serde(flatten)]
    other: std::collections::BTreeMap<String, serde_norway::Value>,
}

#[derive(Debug, Deserialize)]
struct WriteFile {
    path: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    permissions: Option<Permissions>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    append: bool,
    /// Written after packages are installed (cloud-init's final stage), for files owned
    /// by users a package makes.
    #[serde(default)]
    defer: bool,
}

/// `permissions: '0644'` (cloud-init's form) or a bare YAML number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Permissions {
    Text(String),
    Number(u32),
}

/// `- name` or `- [name, version]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Package {
    Name(String),
    Versioned(Vec<String>),
}

/// A `runcmd` entry: a shell line, or an argument vector run without a shell.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Command {
    Line(String),
    Argv(Vec<String>),
}

/// Whether user data is a cloud-config document (cloud-init's first-line marker).
pub fn is_cloud_config(user_data: &[u8]) -> bool {
    user_data.starts_with(b"#cloud-config")
}

/// The shell script that does what the document asks; a document that does not parse
/// gives a script that says so on the console, as cloud-init logs it.
pub fn to_script(user_data: &[u8]) -> String {
    let mut script = String::from("#!/bin/bash\n# ec2lite: this instance's #cloud-config, as a script.\n");
    let config = match serde_norway::from_slice::<Option<CloudConfig>>(user_data) {
        Ok(config) => config.unwrap_or_default(),
        Err(why) => {
            let message = format!("ec2lite: the #cloud-config user data is not valid: {why}");
            script.push_str(&format!("echo {}\nexit 1\n", quote(&message)));
            return script;
        }
    };
    for module in config.other.keys() {
        let message = format!("ec2lite: cloud-config module {module} is not supported; skipped");
        script.push_str(&format!("echo {}\n", quote(&message)));
    }
    script.push_str("status=0\n");
    for file in config.write_files.iter().filter(|f| !f.defer) {
        write_file(&mut script, file);
    }
    packages(&mut script, &config);
    for file in config.write_files.iter().filter(|f| f.defer) {
        write_file(&mut script, file);
    }
    if !config.runcmd.is_empty() {
        // cloud-init writes runcmd into one script run by sh: a failed line does not
        // stop the next.
        let lines: Vec<String> = config.runcmd.iter().map(command_line).collect();
        script.push_str(&format!("echo 'ec2lite: runcmd'\nsh -c {} || status=$?\n", quote(&lines.join("\n"))));
    }
    script.push_str("exit $status\n");
    script
}

fn write_file(script: &mut String, file: &WriteFile) {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let bytes = match file.encoding.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("text/plain") => file.content.as_bytes().to_vec(),
        Some("b64" | "base64") => match engine.decode(file.content.split_whitespace().collect::<String>()) {
            Ok(bytes) => bytes,
            Err(why) => return skip(script, &file.path, &format!("its base64 content does not decode ({why})")),
        },
        Some(other) => return skip(script, &file.path, &format!("encoding '{other}' is not supported")),
    };
    let path = quote(&file.path);
    let redirect = if file.append { ">>" } else { ">" };
    script.push_str(&format!(
        "mkdir -p \"$(dirname {path})\" && echo {} | base64 -d {redirect} {path} || status=$?\n",
        engine.encode(&bytes)
    ));
    let mode = match &file.permissions {
        Some(Permissions::Text(text)) => text.clone(),
        // YAML reads 0644 as the decimal number 644.
        Some(Permissions::Number(n)) => format!("{n:o}"),
        None => "0644".into(),
    };
    script.push_str(&format!("chmod {} {path} || status=$?\n", quote(&mode)));
    let owner = file.owner.as_deref().unwrap_or("root:root");
    script.push_str(&format!("chown {} {path} || status=$?\n", quote(owner)));
}

fn skip(script: &mut String, path: &str, why: &str) {
    let message = format!("ec2lite: write_files {path}: {why}; not written");
    script.push_str(&format!("echo {}\nstatus=1\n", quote(&message)));
}

/// Installs with the root filesystem's own package manager (apt on Debian and Ubuntu,
/// dnf or yum elsewhere), from whatever sources it has configured.
fn packages(script: &mut String, config: &CloudConfig) {
    let names: Vec<String> = config
        .packages
        .iter()
        .map(|p| match p {
            Package::Name(name) => name.clone(),
            Package::Versioned(parts) => parts.join("="),
        })
        .collect();
    if !config.package_update && !config.package_upgrade && names.is_empty() {
        return;
    }
    script.push_str("if command -v apt-get >/dev/null; then pm=apt-get; export DEBIAN_FRONTEND=noninteractive; elif command -v dnf >/dev/null; then pm=dnf; else pm=yum; fi\n");
    if config.package_update || config.package_upgrade {
        script.push_str("echo 'ec2lite: package_update'\n[ $pm = apt-get ] && { apt-get update || status=$?; }\n");
    }
    if config.package_upgrade {
        script.push_str("echo 'ec2lite: package_upgrade'\n$pm -y upgrade || status=$?\n");
    }
    if !names.is_empty() {
        let quoted: Vec<String> = names.iter().map(|n| quote(n)).collect();
        script.push_str(&format!("echo 'ec2lite: packages'\n$pm install -y {} || status=$?\n", quoted.join(" ")));
    }
}

fn command_line(command: &Command) -> String {
    match command {
        Command::Line(line) => line.clone(),
        Command::Argv(argv) => argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "),
    }
}

/// A single-quoted shell word.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (exit status, stdout and stderr) of a script run by bash.
    fn run(script: &str) -> (i32, String) {
        let out = std::process::Command::new("bash").arg("-c").arg(script).output().expect("bash");
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    }

    #[test]
    fn write_files_then_runcmd_run_in_order() {
        let dir = std::env::temp_dir().join(format!("ec2lite-cloud-config-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        use std::os::unix::fs::MetadataExt;
        let made = std::fs::metadata(&dir).unwrap();
        let owner = format!("{}:{}", made.uid(), made.gid());
        let doc = format!(
            "#cloud-config\nwrite_files:\n  - path: {d}/etc/motd\n    content: |\n      it's baked\n    permissions: '0600'\n    owner: {owner}\n  - path: {d}/b64\n    encoding: b64\n    content: aGVsbG8=\nruncmd:\n  - echo ran > {d}/ran\n  - [sh, -c, 'cat {d}/etc/motd >> {d}/ran']\n",
            d = dir.display()
        );
        let (status, output) = run(&to_script(doc.as_bytes()));
        assert_eq!(status, 0, "{output}");
        assert_eq!(std::fs::read_to_string(dir.join("etc/motd")).unwrap(), "it's baked\n");
        assert_eq!(std::fs::read_to_string(dir.join("b64")).unwrap(), "hello");
        assert_eq!(std::fs::read_to_string(dir.join("ran")).unwrap(), "ran\nit's baked\n");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("etc/motd")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn packages_use_the_package_manager_and_unknown_modules_are_named() {
        let script = to_script(b"#cloud-config\npackage_update: true\npackages: [tree, [nginx, '1.2']]\nusers: []\n");
        assert!(script.contains("$pm install -y 'tree' 'nginx=1.2'"), "{script}");
        assert!(script.contains("apt-get update"), "{script}");
        assert!(script.contains("module users is not supported"), "{script}");
    }

    #[test]
    fn a_document_that_does_not_parse_says_so() {
        let (status, output) = run(&to_script(b"#cloud-config\nruncmd: [unclosed\n"));
        assert_eq!(status, 1);
        assert!(output.contains("is not valid"), "{output}");
        assert!(is_cloud_config(b"#cloud-config\n"));
        assert!(!is_cloud_config(b"#!/bin/sh\n"));
    }

    #[test]
    fn an_empty_document_does_nothing() {
        assert_eq!(run(&to_script(b"#cloud-config\n")), (0, String::new()));
    }
}
