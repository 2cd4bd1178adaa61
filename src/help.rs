//! `bootstrap --help`: the reference of every setting, rendered from the table in
//! `settings.rs` (which docs/configuration.md is rendered from too).

use crate::settings::{plain, Place, SETTINGS};
use std::fmt::Write as _;

/// What `bootstrap --help` prints.
pub fn help() -> String {
    let mut out = format!(
        "alarm-to-slack {}: a Lambda custom runtime (provided.al2023)\n\
         that posts CloudWatch alarms from SNS to Slack.\n\n\
         Usage:\n  \
         bootstrap            serve the Lambda Runtime API (how Lambda starts it)\n  \
         bootstrap --help     print this reference\n  \
         bootstrap --version  print the version\n\n\
         Configuration: environment variables, read and checked once at start-up.\n\
         A wrong value stops the start with an init error that names the variable and the fix.\n",
        env!("CARGO_PKG_VERSION")
    );
    let mut place = Place::Env;
    for setting in SETTINGS {
        if setting.place != place {
            place = setting.place;
            out.push_str(
                "\nThe secret's keys: its SecretString is a JSON object with these, or just the\n\
                 webhook URL. Read with the secret; a wrong one fails the invocation with\n\
                 Secret.Invalid, naming the key (never its value).\n",
            );
        }
        let _ = writeln!(out, "\n  {}", setting.names.join(", "));
        wrap(&mut out, &format!("Default: {}", setting.default_text()));
        wrap(&mut out, &format!("Accepts: {}", setting.accepts_text()));
        wrap(&mut out, setting.does);
        if !setting.when_wrong.is_empty() {
            wrap(&mut out, &format!("When wrong: {}", setting.when_wrong));
        }
        if !setting.see.is_empty() {
            wrap(&mut out, &format!("More: docs/{}", setting.see));
        }
    }
    out
}

/// Appends `text` without its backticks, indented and cut at word boundaries to fit a
/// terminal.
fn wrap(out: &mut String, text: &str) {
    const INDENT: &str = "      ";
    let text = plain(text);
    let mut width = 0;
    for word in text.split_whitespace() {
        if width > 0 && width + 1 + word.len() > 100 - INDENT.len() {
            out.push('\n');
            width = 0;
        }
        if width == 0 {
            out.push_str(INDENT);
        } else {
            out.push(' ');
            width += 1;
        }
        out.push_str(word);
        width += word.len();
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in the reference, one by one.
    fn documented() -> Vec<&'static str> {
        SETTINGS
            .iter()
            .flat_map(|s| s.names.iter().copied())
            .collect()
    }

    #[test]
    fn help_lists_every_variable() {
        let help = help();
        assert!(help.contains(env!("CARGO_PKG_VERSION")));
        assert!(help.lines().all(|l| l.chars().count() <= 100), "{help}");
        for name in documented() {
            assert!(help.contains(name), "{name}");
        }
        assert!(!help.contains('`'), "{help}");
    }

    #[test]
    fn the_secrets_keys_follow_the_environment() {
        // The heading before the first key would otherwise be printed again.
        let places: Vec<Place> = SETTINGS.iter().map(|s| s.place).collect();
        let first = places.iter().position(|p| *p == Place::Secret);
        assert!(first.is_some_and(|i| places[i..].iter().all(|p| *p == Place::Secret)));
        assert_eq!(help().matches("The secret's keys").count(), 1);
    }
}
