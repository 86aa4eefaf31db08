//! What to attach to: a local path, or `[user@]host:path` on another machine.

use std::path::PathBuf;

/// A run directory or a folder of runs, here or reachable over ssh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Local(PathBuf),
    Remote { host: String, path: String },
}

impl Target {
    /// Parses `TARGET` the way scp does: `host:path` or `user@host:path` is remote when the
    /// part before the first ':' has no '/'; anything else is a local path.
    pub fn parse(text: &str) -> Target {
        if let Some((host, path)) = text.split_once(':') {
            // A leading '-' would reach ssh as an option, so it is no host.
            let looks_remote = !host.is_empty()
                && !host.contains('/')
                && !host.starts_with('.')
                && !host.starts_with('-');
            if looks_remote {
                let path = if path.is_empty() { "." } else { path };
                return Target::Remote {
                    host: host.to_string(),
                    path: path.to_string(),
                };
            }
        }
        Target::Local(PathBuf::from(text))
    }

    /// The same place, one folder down (a run inside a folder of runs).
    pub fn join(&self, name: &str) -> Target {
        match self {
            Target::Local(path) => Target::Local(path.join(name)),
            Target::Remote { host, path } => Target::Remote {
                host: host.clone(),
                path: format!("{}/{name}", path.trim_end_matches('/')),
            },
        }
    }

    pub fn display(&self) -> String {
        match self {
            Target::Local(path) => path.display().to_string(),
            Target::Remote { host, path } => format!("{host}:{path}"),
        }
    }
}

/// Quotes `text` for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A remote path as a shell word: quoted, except a leading `~` or `~user`, which the
/// remote shell expands to a home folder as scp does (`box:~/runs`).
pub fn remote_path(path: &str) -> String {
    // The tilde and everything up to its first '/' (included) stay unquoted: a quoted
    // character in that prefix would stop the shell's expansion.
    let (home, rest) = match path.strip_prefix('~') {
        Some(after) => {
            let user_end = after.find('/').unwrap_or(after.len());
            let plain = after[..user_end]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            let prefix_end = (1 + user_end + 1).min(path.len());
            if plain {
                path.split_at(prefix_end)
            } else {
                ("", path)
            }
        }
        None => ("", path),
    };
    if rest.is_empty() {
        home.to_string()
    } else {
        format!("{home}{}", shell_quote(rest))
    }
}

/// The ssh arguments that run `command` on `host`: no prompts (keys and agent only), and a
/// keep-alive so a dead link is noticed within seconds.
pub fn ssh_args(host: &str, command: &str) -> Vec<String> {
    [
        "-o",
        "BatchMode=yes",
        "-o",
        "ServerAliveInterval=5",
        "-o",
        "ServerAliveCountMax=3",
        "-o",
        "ConnectTimeout=10",
        host,
        "--",
        command,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The remote command that streams `file` from byte `offset` on, following it as it grows.
pub fn follow_command(file: &str, offset: u64) -> String {
    format!(
        "while [ ! -f {f} ]; do sleep 1; done; exec tail -c +{} -f {f}",
        offset + 1,
        f = remote_path(file)
    )
}

/// The line that ends a [`sampled_follow_command`]'s backlog: `@@fer-sampled POS`, where POS
/// is the file offset the raw stream after it starts at.
pub const SAMPLED_MARK: &str = "@@fer-sampled ";

/// The first remote command for `file`: its backlog sampled on the box the way a local log
/// is (every event but steps; about `max_steps` steps evenly spread, all those of the last
/// MiB), so a long log opens fast over a slow link; then [`SAMPLED_MARK`], the bytes of a
/// line the writer is mid-way through, and the file followed from there.
pub fn sampled_follow_command(file: &str, max_steps: usize) -> String {
    // POSIX awk with bytes as characters (LC_ALL=C); a last line without its newline is
    // not sampled but passed on raw after the mark.
    let sample = r#"BEGIN { tail = len - 1048576; big = len > 4194304
  stride = big ? int(tail / keep) : 0; next_s = 0; pos = 0 }
{ n = length($0) + 1
  if (pos + n > len) { rest = $0; exit }
  step = index(substr($0, 1, 64), "\"kind\":\"step\"") > 0
  if (!big || !step || pos >= tail || pos >= next_s) { print; if (step) next_s = pos + stride }
  pos += n }
END { printf "@@fer-sampled %d\n%s", pos, rest }"#;
    format!(
        "f={f}; while [ ! -f \"$f\" ]; do sleep 1; done\n\
         len=$(wc -c < \"$f\" | tr -d ' ')\n\
         head -c \"$len\" \"$f\" | LC_ALL=C awk -v len=\"$len\" -v keep={max_steps} '{sample}'\n\
         exec tail -c +$((len + 1)) -f \"$f\"",
        f = remote_path(file)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_paths_are_quoted_but_keep_their_tilde() {
        assert_eq!(remote_path("runs/a b"), "'runs/a b'");
        assert_eq!(remote_path("~/runs"), "~/'runs'");
        assert_eq!(remote_path("~"), "~");
        assert_eq!(remote_path("~/"), "~/");
        assert_eq!(remote_path("~bob/fer runs"), "~bob/'fer runs'");
        assert_eq!(
            remote_path("~$(x)/r"),
            "'~$(x)/r'",
            "no expansion of anything else"
        );
        assert_eq!(remote_path("it's"), shell_quote("it's"));
    }

    #[test]
    fn targets_parse_like_scp() {
        assert_eq!(Target::parse("runs"), Target::Local("runs".into()));
        assert_eq!(Target::parse("./a:b"), Target::Local("./a:b".into()));
        assert_eq!(
            Target::parse("-oProxyCommand=x:y"),
            Target::Local("-oProxyCommand=x:y".into()),
            "no ssh options through the host"
        );
        assert_eq!(Target::parse("/abs/x:y"), Target::Local("/abs/x:y".into()));
        assert_eq!(
            Target::parse("gpu-box:runs/nsl"),
            Target::Remote {
                host: "gpu-box".into(),
                path: "runs/nsl".into()
            }
        );
        assert_eq!(
            Target::parse("ana@10.0.0.5:/home/ana/runs"),
            Target::Remote {
                host: "ana@10.0.0.5".into(),
                path: "/home/ana/runs".into()
            }
        );
        assert_eq!(
            Target::parse("box:"),
            Target::Remote {
                host: "box".into(),
                path: ".".into()
            }
        );
        assert_eq!(Target::parse("box:runs/").join("a").display(), "box:runs/a");
    }

    #[test]
    fn ssh_command_lines_quote_paths() {
        let args = ssh_args("box", &follow_command("runs/it's/events.jsonl", 120));
        assert_eq!(&args[..2], ["-o", "BatchMode=yes"]);
        assert_eq!(args[8], "box");
        assert_eq!(args[9], "--");
        assert_eq!(
            args[10],
            r"while [ ! -f 'runs/it'\''s/events.jsonl' ]; do sleep 1; done; exec tail -c +121 -f 'runs/it'\''s/events.jsonl'"
        );
    }
}
