//! The Slack settings (webhook or bot token, routes) from the secret: from memory while
//! fresh, else from Secrets Manager, with the connection to Slack opened meanwhile.

use crate::aws::secrets_manager::SecretsManager;
use crate::error::Error;
use crate::http::{Deadline, Preconnect};
use crate::log::{self, Level};
use crate::secret_cache::{Lookup, SecretCache};
use crate::slack::secret::Settings;
use std::time::Instant;

pub struct Credentials {
    secrets: SecretsManager,
    cache: SecretCache<Settings>,
    /// Where Slack probably is, connected while the secret is being fetched.
    preconnect: Preconnect,
}

impl Credentials {
    pub fn new(
        secrets: SecretsManager,
        cache: SecretCache<Settings>,
        preconnect: Preconnect,
    ) -> Credentials {
        Credentials {
            secrets,
            cache,
            preconnect,
        }
    }

    /// The settings, and how they were found (`hit`, `miss`, `stale`) for the log line.
    pub fn settings(
        &mut self,
        agent: &ureq::Agent,
        deadline: Deadline,
    ) -> Result<(&Settings, &'static str), Error> {
        let (secrets, preconnect) = (&self.secrets, &self.preconnect);
        let fetch = || {
            preconnect.open(agent);
            Settings::from_secret(&secrets.get_secret_string(agent, deadline)?)
        };
        let (settings, lookup) = self.cache.get(Instant::now(), fetch)?;
        if let Lookup::Stale(err) = &lookup {
            log::line(
                Level::Warn,
                &"cannot refresh the secret; using the cached one past its TTL",
            )
            .error(err)
            .emit();
        }
        Ok((settings, lookup.as_str()))
    }

    /// Whether the next [`settings`](Self::settings) comes from memory, without a call.
    pub fn is_fresh(&self) -> bool {
        self.cache.is_fresh(Instant::now())
    }

    /// Forgets the cached settings: Slack refused them, and the secret may hold new ones.
    pub fn invalidate(&mut self) {
        self.cache.invalidate();
    }
}
