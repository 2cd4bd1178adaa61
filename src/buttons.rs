//! A request from Slack through the function's URL (a click on an incident's buttons):
//! refused unless Slack signed it for our app and workspace, answered within Slack's three
//! seconds, then carried out in the same invocation (`delivery/click.rs`). The HTTP answer
//! is the invocation's response; refusals are WARN lines that never hold the body.

use crate::alarm::timestamp::now_ms;
use crate::aws::cloudwatch::CloudWatch;
use crate::click::{self, response::response, Refused, Request};
use crate::delivery::click::{action_of, Clicked};
use crate::delivery::credentials::Credentials;
use crate::error::Error;
use crate::http::Deadline;
use crate::incident::store::Store;
use crate::log::{self, Level};
use crate::runtime::Invocation;
use crate::slack::secret::{Settings, Target};
use crate::slack::web_api::{Args, WebApi};
use serde_json::Value;

/// The workspace and app the bot token belongs to, asked of `auth.test` once per token
/// when the secret does not name them.
pub struct Identity {
    token: u64,
    team: String,
    app: Option<String>,
}

/// What serving a click borrows from the handler.
pub struct Parts<'a> {
    pub agent: &'a ureq::Agent,
    pub credentials: &'a mut Credentials,
    pub web_api: &'a WebApi,
    pub store: Option<&'a Store>,
    pub identity: &'a mut Option<Identity>,
    /// `MUTE_CLOUDWATCH`: where a Mute's alarm mute rule goes.
    pub mute_rules: Option<&'a CloudWatch>,
}

/// Serves one Function URL request; `answer` sends the HTTP answer before the click is
/// carried out. The returned body is the answer when `answer` was not called.
// Out of line: inlined into its one caller, it made the bootstrap's code larger (measured).
#[inline(never)]
pub fn serve(
    p: Parts,
    request: &Request,
    invocation: &Invocation,
    answer: &mut dyn FnMut(String),
) -> Result<String, Error> {
    let deadline = invocation.deadline;
    // What can be refused without the secret is refused before fetching it.
    if let Err(refused) = click::precheck(request) {
        return Ok(refuse(refused));
    }
    let (settings, _) = p.credentials.settings(p.agent, deadline)?;
    let (Target::App(token), Some(secret)) = (&settings.target, &settings.signing_secret) else {
        return Ok(refuse(Refused {
            status: 404,
            why: "buttons are off: the secret has no SLACK_SIGNING_SECRET (app mode)",
        }));
    };
    let click = match click::read(request, secret.bytes(), now_secs()) {
        Ok(click) => click,
        Err(refused) => return Ok(refuse(refused)),
    };
    let (team, app) = identity(p.agent, p.web_api, settings, p.identity, deadline)?;
    if click.team != team || app.is_some_and(|app| app != click.app) {
        return Ok(refuse(Refused {
            status: 403,
            why: "the click comes from another workspace or app than the bot token's",
        }));
    }
    let Some(action) = action_of(&click, now_ms()) else {
        return Ok(refuse(Refused {
            status: 400,
            why: "not one of our actions",
        }));
    };
    let (Some(act), Some(store)) = (action, p.store) else {
        // The runbook link (Slack tells us of its clicks too), or no incident store: nothing
        // to do, and Slack wants a 200.
        return Ok(response(200, false, ""));
    };
    answer(response(200, false, ""));
    Clicked {
        agent: p.agent,
        api: p.web_api,
        token,
        settings,
        store,
        click: &click,
        act,
        cloudwatch: p.mute_rules,
        deadline,
    }
    .carry_out();
    Ok(String::new())
}

/// The workspace (and app, when known) of the bot token: the secret's `SLACK_TEAM_ID` and
/// `SLACK_APP_ID`, else one `auth.test` per token.
// Out of line: inlined into its one caller, it made the bootstrap's code larger (measured).
#[inline(never)]
fn identity<'a>(
    agent: &ureq::Agent,
    api: &WebApi,
    settings: &'a Settings,
    cached: &'a mut Option<Identity>,
    deadline: Deadline,
) -> Result<(&'a str, Option<&'a str>), Error> {
    // Borrowed, not copied: copies of the team and app out of the cache cost 448 bytes
    // of code.
    if let Some(team) = &settings.team_id {
        return Ok((team, settings.app_id.as_deref()));
    }
    let Target::App(token) = &settings.target else {
        return Err(Error::InvalidSecret("buttons need app mode".to_string()));
    };
    let fingerprint = settings.fingerprint();
    let known: &Identity = match cached.take() {
        Some(known) if known.token == fingerprint => cached.insert(known),
        other => {
            // Kept while asking: a failed auth.test leaves the cache as it was.
            *cached = other;
            let answer = api.call(agent, token, "auth.test", Args::Form(""), true, deadline)?;
            let text = |k: &str| answer.get(k).and_then(Value::as_str).map(str::to_string);
            let Some(team) = text("team_id") else {
                return Err(Error::SlackRejected {
                    status: 200,
                    body: "auth.test named no team_id".to_string(),
                });
            };
            cached.insert(Identity {
                token: fingerprint,
                team,
                app: text("app_id"),
            })
        }
    };
    Ok((
        &known.team,
        settings.app_id.as_deref().or(known.app.as_deref()),
    ))
}

/// The answer to a request that is not acted on, and its WARN.
pub fn refuse(refused: Refused) -> String {
    log::line(Level::Warn, &"a Function URL request was refused")
        .num("status", u64::from(refused.status))
        .word("why", refused.why)
        .emit();
    response(refused.status, false, refused.why)
}

fn now_secs() -> i64 {
    now_ms().div_euclid(1000)
}
