//! `--runtime-images FILE`: which root filesystem instances of an AMI start from, by
//! the AMI's name, instead of the base one. One mapping a line, the first match wins:
//!
//! ```text
//! # AMI name pattern             root filesystem                      [login user]
//! ubuntu/images/*noble*          /srv/rootfs/ubuntu-noble             ubuntu
//! my-app-*                       podman:localhost/my-app:latest
//! ```
//!
//! Patterns are EC2 filter patterns (`*` any run of characters, `?` one or none). A root
//! filesystem is a directory, or `podman:<image>` for a local container image (its
//! files are exported once per instance). It needs bash and sshd (`/usr/sbin/sshd`),
//! and the login user, which is otherwise the image family's (`login_user`).

use std::path::PathBuf;

use crate::domain::filter::Pattern;

/// Where the files of an image's instances come from.
#[derive(Debug, Clone, PartialEq)]
pub enum RootFiles {
    Directory(PathBuf),
    ContainerImage(String),
}

#[derive(Debug, Clone)]
pub struct Mapping {
    pattern: Pattern,
    pub files: RootFiles,
    pub login_user: Option<String>,
}

/// The mappings of a `--runtime-images` file, in order.
#[derive(Debug, Clone, Default)]
pub struct ImageRoots {
    mappings: Vec<Mapping>,
}

impl ImageRoots {
    pub fn parse(text: &str) -> Result<ImageRoots, String> {
        let mut mappings = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (pattern, root, login_user) = match fields.as_slice() {
                [pattern, root] => (pattern, root, None),
                [pattern, root, user] => (pattern, root, Some(user.to_string())),
                _ => {
                    return Err(format!(
                        "line {}: expected `<AMI name pattern> <root filesystem> [login user]`",
                        number + 1
                    ))
                }
            };
            let files = match root.strip_prefix("podman:") {
                Some(image) if !image.is_empty() => RootFiles::ContainerImage(image.to_string()),
                Some(_) => return Err(format!("line {}: `podman:` names no image", number + 1)),
                None if root.starts_with('/') => RootFiles::Directory(PathBuf::from(root)),
                None => {
                    return Err(format!(
                        "line {}: {root} is neither an absolute directory nor podman:<image>",
                        number + 1
                    ))
                }
            };
            mappings.push(Mapping { pattern: Pattern::new(pattern), files, login_user });
        }
        Ok(ImageRoots { mappings })
    }

    /// The first mapping whose pattern matches the whole AMI name.
    pub fn find(&self, image_name: &str) -> Option<&Mapping> {
        self.mappings.iter().find(|m| m.pattern.matches(image_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_line_wins() {
        let roots = ImageRoots::parse(
            "# comment\n\nubuntu/images/*noble*  /srv/noble  ubuntu\nmy-app-*  podman:localhost/app:1   # app\n*  /srv/any\n",
        )
        .unwrap();
        let noble = roots.find("ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241206").unwrap();
        assert_eq!(noble.files, RootFiles::Directory("/srv/noble".into()));
        assert_eq!(noble.login_user.as_deref(), Some("ubuntu"));
        let app = roots.find("my-app-7").unwrap();
        assert_eq!(app.files, RootFiles::ContainerImage("localhost/app:1".into()));
        assert_eq!(app.login_user, None);
        assert_eq!(roots.find("al2023-ami").unwrap().files, RootFiles::Directory("/srv/any".into()));
        assert!(ImageRoots::parse("").unwrap().find("x").is_none());
    }

    #[test]
    fn bad_lines_are_named() {
        assert!(ImageRoots::parse("only-a-pattern").unwrap_err().starts_with("line 1:"));
        assert!(ImageRoots::parse("a b c d").is_err());
        assert!(ImageRoots::parse("\nx relative/dir").unwrap_err().starts_with("line 2:"));
        assert!(ImageRoots::parse("x podman:").is_err());
    }
}
