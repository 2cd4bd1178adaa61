//! Slack Web API stand-in for "app mode" (a bot token `xoxb-…`): `POST /api/<method>` for
//! `auth.test`, `chat.postMessage`, `chat.update`, `chat.postEphemeral`, `conversations.history`,
//! `conversations.replies`, `usergroups.users.list`, `files.getUploadURLExternal` and
//! `files.completeUploadExternal`, plus the upload URL (`POST /upload/<file_id>`) that
//! `files.getUploadURLExternal` hands out.
//!
//! Facts it follows: /work/shared/reference/slack-web-api.md. Where Slack's behaviour is unclear
//! the stand-in is the stricter of the plausible choices, so that a bug in the bootstrap shows up
//! here rather than in a real workspace; each such choice says so in a comment ("Choice:").
//!
//! Method failures are HTTP 200 `{"ok":false,"error":…}` as on Slack. Faults are injected per
//! method, FIFO, and apply to the next call of that method whatever its arguments.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::{lock, respond, wait_for, Incoming};

pub const DEFAULT_BOT_TOKEN: &str = "xoxb-emulator-bot-token";
pub const DEFAULT_CHANNEL_ID: &str = "C0ALERTS";
pub const DEFAULT_CHANNEL_NAME: &str = "alerts";
/// The bot's identity in answers (`auth.test`, messages' `user`/`bot_id`).
pub const BOT_USER_ID: &str = "U0EMUBOT";
pub const BOT_ID: &str = "B0EMUBOT";
pub const TEAM_ID: &str = "T0EMULATOR";

const JSON: (&str, &str) = ("Content-Type", "application/json; charset=utf-8");
const TEXT: (&str, &str) = ("Content-Type", "text/plain; charset=utf-8");

/// How a call's arguments were sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/json` (with or without a charset).
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// Anything else, or no body: only query-string arguments count.
    Other,
}

/// A fault queued for the next call of one method.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Not processed; HTTP 200 `{"ok":false,"error":…}`.
    Fail(String),
    /// Not processed; HTTP 429 with `Retry-After` and `{"ok":false,"error":"ratelimited"}`.
    RateLimit(u64),
    /// Processed (a message is stored), then the connection is shut without a byte of answer.
    LoseAnswer,
    /// Processed, answered after this delay.
    Delay(Duration),
    /// Not processed; this status and raw body (e.g. 503 with an HTML page).
    Status(u16, String),
    /// Processed (a message is stored), then answered with this status and raw body instead
    /// of its JSON (e.g. 200 with a body too large to read).
    ProcessedThen(u16, String),
}

/// Slack's pace of `chat.postMessage` per channel, as a token bucket: `burst` posts at once,
/// one more each `every`. Slack documents about one message per second per channel with
/// short bursts allowed "with no guarantee"; what finds the bucket empty is `over`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelLimit {
    pub every: Duration,
    pub burst: u32,
    pub over: Over,
}

/// What becomes of a post above a channel's limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Over {
    /// Accepted (200, a `ts`) and never shown: kept apart, see [`SlackApi::hidden`].
    Hide,
    /// Not processed: 429 with `Retry-After` (whole seconds until the bucket has a post).
    Refuse,
}

/// One request to `/api/<method>`, recorded after it was handled.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    /// When the whole request had arrived (for timing what came before it).
    pub received: Instant,
    /// Its place among everything the emulator's servers received ([`super::arrival`]): for
    /// the order of requests to different stand-ins, without comparing clocks.
    pub arrival: u64,
    pub method: String,
    /// The `Content-Type` header verbatim (so a test can tell `application/json` from
    /// `application/json; charset=utf-8`).
    pub content_type: Option<String>,
    pub encoding: Encoding,
    /// An `Authorization` header was sent, whatever its value.
    pub auth_header: bool,
    /// The token used: `Authorization: Bearer …`, else a form field `token` (a `token` in a
    /// JSON body is not used, as on Slack, and not reported here).
    pub token: Option<String>,
    /// The arguments: the JSON object as sent, or the form (and query) fields as strings.
    pub params: Value,
    pub body: String,
    /// The HTTP status answered (or that would have been, for `Fault::LoseAnswer`).
    pub status: u16,
    /// The JSON answered (or that would have been); `Null` for a non-JSON answer.
    pub answer: Value,
    pub fault: Option<Fault>,
}

impl ApiCall {
    pub fn ok(&self) -> bool {
        self.answer["ok"] == true
    }

    /// The `error` answered, if any.
    pub fn error(&self) -> Option<&str> {
        self.answer["error"].as_str()
    }
}

/// The content of a message at one point in time.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub text: Option<String>,
    pub blocks: Option<Value>,
    pub attachments: Option<Value>,
    pub metadata: Option<Value>,
}

/// A stored message. `text`/`blocks`/`attachments`/`metadata` are the latest version.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiMessage {
    pub channel: String,
    pub ts: String,
    pub text: Option<String>,
    pub blocks: Option<Value>,
    pub attachments: Option<Value>,
    pub metadata: Option<Value>,
    /// The parent's ts for a thread reply; None for a top-level message.
    pub thread_ts: Option<String>,
    pub reply_broadcast: bool,
    pub unfurl_links: Option<bool>,
    pub unfurl_media: Option<bool>,
    /// File ids shared by `files.completeUploadExternal` (such a message has no other content
    /// than its `initial_comment` as text).
    pub files: Vec<String>,
    /// The token that posted it (the "bot" that owns it).
    pub token: String,
    /// Every version, the original first; `chat.update` appends one.
    pub versions: Vec<Version>,
    /// Thread replies in order; filled only by `SlackApi::messages` on top-level messages.
    pub replies: Vec<ApiMessage>,
}

impl ApiMessage {
    fn version(&self) -> Version {
        Version {
            text: self.text.clone(),
            blocks: self.blocks.clone(),
            attachments: self.attachments.clone(),
            metadata: self.metadata.clone(),
        }
    }

    /// How many times it was updated.
    pub fn updates(&self) -> usize {
        self.versions.len().saturating_sub(1)
    }
}

/// A file announced by `files.getUploadURLExternal`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiFile {
    pub id: String,
    pub filename: String,
    /// The `length` announced.
    pub length: usize,
    pub alt_txt: Option<String>,
    /// The bytes of the last accepted upload; None until one was accepted.
    pub bytes: Option<Vec<u8>>,
    /// The status of every POST to the upload URL, in order.
    pub upload_statuses: Vec<u16>,
    /// Every header of every POST to the upload URL, in order.
    pub upload_headers: Vec<(String, String)>,
    /// `files.completeUploadExternal` accepted it.
    pub completed: bool,
    pub title: Option<String>,
    /// Where it was shared (None: completed without a channel, a private file).
    pub channel: Option<String>,
    pub thread_ts: Option<String>,
    pub initial_comment: Option<String>,
}

/// A message `chat.postEphemeral` showed to one user: never stored with the channel's
/// messages (no other user, nor the history, ever sees it).
#[derive(Debug, Clone, PartialEq)]
pub struct Ephemeral {
    pub channel: String,
    pub user: String,
    pub text: Option<String>,
    pub blocks: Option<Value>,
    pub thread_ts: Option<String>,
    /// The `message_ts` answered.
    pub message_ts: String,
    /// Whether Slack would show it: one in a thread shows only in an active thread (one
    /// with a reply), as chat.postEphemeral's docs say.
    pub shown: bool,
}

struct Channel {
    name: String,
    member: bool,
    archived: bool,
    /// `None`: every user is in it (the default); else only these may get ephemerals there.
    users: Option<BTreeSet<String>>,
}

struct Inner {
    tokens: BTreeSet<String>,
    revoked: BTreeSet<String>,
    channels: BTreeMap<String, Channel>,
    /// Every message of every channel, in posting order (ts increase with it).
    messages: Vec<ApiMessage>,
    ephemerals: Vec<Ephemeral>,
    /// User groups (`S…`) and their members, for `usergroups.users.list`.
    usergroups: BTreeMap<String, Vec<String>>,
    /// The `app_id` `auth.test` answers, if any (see `process`).
    app_id: Option<String>,
    files: Vec<ApiFile>,
    calls: Vec<ApiCall>,
    faults: HashMap<String, VecDeque<Fault>>,
    upload_faults: VecDeque<u16>,
    /// Upload URLs to hand out instead of the stand-in's own, FIFO.
    upload_urls: VecDeque<String>,
    last_ts_micros: u64,
    limit: Option<ChannelLimit>,
    /// Per channel (as the post names it): posts in the bucket, and when it was filled.
    buckets: HashMap<String, (f64, Instant)>,
    /// Posts accepted above the limit and never shown.
    hidden: Vec<ApiMessage>,
}

pub struct SlackApi {
    inner: Mutex<Inner>,
    cv: Condvar,
    /// The server's address, set once it listens (upload URLs and `lose_answer_next` need it).
    addr: OnceLock<SocketAddr>,
}

type Params = Map<String, Value>;
type Outcome = Result<Value, String>;

impl SlackApi {
    /// One valid token, one channel (`C0ALERTS`, `#alerts`) the bot is a member of.
    pub fn new(bot_token: &str) -> SlackApi {
        let mut channels = BTreeMap::new();
        channels.insert(
            DEFAULT_CHANNEL_ID.to_string(),
            Channel {
                name: DEFAULT_CHANNEL_NAME.to_string(),
                member: true,
                archived: false,
                users: None,
            },
        );
        SlackApi {
            inner: Mutex::new(Inner {
                tokens: BTreeSet::from([bot_token.to_string()]),
                revoked: BTreeSet::new(),
                channels,
                messages: Vec::new(),
                ephemerals: Vec::new(),
                usergroups: BTreeMap::new(),
                app_id: None,
                files: Vec::new(),
                calls: Vec::new(),
                faults: HashMap::new(),
                upload_faults: VecDeque::new(),
                upload_urls: VecDeque::new(),
                last_ts_micros: 0,
                limit: None,
                buckets: HashMap::new(),
                hidden: Vec::new(),
            }),
            cv: Condvar::new(),
            addr: OnceLock::new(),
        }
    }

    pub(crate) fn set_addr(&self, addr: SocketAddr) {
        let _ = self.addr.set(addr);
    }

    fn base(&self) -> String {
        match self.addr.get() {
            Some(addr) => format!("http://{addr}"),
            None => "http://127.0.0.1:0".to_string(),
        }
    }

    // ---- configuration ----------------------------------------------------------------------

    /// Makes `token` valid (again).
    pub fn add_token(&self, token: &str) {
        let mut s = lock(&self.inner);
        s.revoked.remove(token);
        s.tokens.insert(token.to_string());
    }

    /// From now on `token` answers `token_revoked` (an unknown token answers `invalid_auth`).
    pub fn revoke_token(&self, token: &str) {
        let mut s = lock(&self.inner);
        s.tokens.remove(token);
        s.revoked.insert(token.to_string());
    }

    /// Adds or replaces a channel; `member: false` makes posts answer `not_in_channel`.
    pub fn add_channel(&self, id: &str, name: &str, member: bool) {
        lock(&self.inner).channels.insert(
            id.to_string(),
            Channel {
                name: name.trim_start_matches('#').to_string(),
                member,
                archived: false,
                users: None,
            },
        );
    }

    /// Only `users` are in channel `id` from now on: an ephemeral for anyone else answers
    /// `user_not_in_channel`.
    pub fn set_channel_users(&self, id: &str, users: &[&str]) {
        if let Some(c) = lock(&self.inner).channels.get_mut(id) {
            c.users = Some(users.iter().map(|u| u.to_string()).collect());
        }
    }

    /// Adds or replaces the user group `id` (`S…`) with these members.
    pub fn add_usergroup(&self, id: &str, users: &[&str]) {
        lock(&self.inner).usergroups.insert(
            id.to_string(),
            users.iter().map(|u| u.to_string()).collect(),
        );
    }

    /// From now on `auth.test` also answers this `app_id` (by default it names none).
    pub fn set_auth_app_id(&self, app_id: &str) {
        lock(&self.inner).app_id = Some(app_id.to_string());
    }

    /// Every later call naming it answers `is_archived`.
    pub fn archive_channel(&self, id: &str) {
        if let Some(c) = lock(&self.inner).channels.get_mut(id) {
            c.archived = true;
        }
    }

    // ---- faults -----------------------------------------------------------------------------

    fn push_fault(&self, method: &str, fault: Fault) {
        lock(&self.inner)
            .faults
            .entry(method.to_string())
            .or_default()
            .push_back(fault);
    }

    /// The next call of `method` answers HTTP 200 `{"ok":false,"error":error}`, unprocessed.
    pub fn fail_next(&self, method: &str, error: &str) {
        self.push_fault(method, Fault::Fail(error.to_string()));
    }

    /// From now on, `chat.postMessage` keeps `limit` per channel.
    pub fn limit_channels(&self, limit: ChannelLimit) {
        lock(&self.inner).limit = Some(limit);
    }

    /// Posts accepted above the channel limit and never shown, in posting order.
    pub fn hidden(&self) -> Vec<ApiMessage> {
        lock(&self.inner).hidden.clone()
    }

    /// Takes a post from `channel`'s bucket: `None` when there is one (or no limit), else
    /// what the limit does with the post and how long until the bucket has one.
    fn over_limit(&self, channel: &str, now: Instant) -> Option<(Over, Duration)> {
        let mut s = lock(&self.inner);
        let limit = s.limit?;
        let every = limit.every.as_secs_f64().max(1e-9);
        let burst = f64::from(limit.burst);
        let (posts, filled) = s.buckets.entry(channel.to_string()).or_insert((burst, now));
        *posts = (*posts + now.duration_since(*filled).as_secs_f64() / every).min(burst);
        *filled = now;
        if *posts >= 1.0 {
            *posts -= 1.0;
            return None;
        }
        Some((limit.over, Duration::from_secs_f64((1.0 - *posts) * every)))
    }

    /// The next call of `method` answers 429, `Retry-After: retry_after_secs`, unprocessed.
    pub fn rate_limit_next(&self, method: &str, retry_after_secs: u64) {
        self.push_fault(method, Fault::RateLimit(retry_after_secs));
    }

    /// The next call of `method` is processed, then its connection is shut without an answer.
    pub fn lose_answer_next(&self, method: &str) {
        self.push_fault(method, Fault::LoseAnswer);
    }

    /// The next call of `method` is processed at once and answered after `delay`.
    pub fn delay_answer_next(&self, method: &str, delay: Duration) {
        self.push_fault(method, Fault::Delay(delay));
    }

    /// The next call of `method` answers `status` with this raw body, unprocessed.
    pub fn status_next(&self, method: &str, status: u16, body: &str) {
        self.push_fault(method, Fault::Status(status, body.to_string()));
    }

    /// The next call of `method` is processed (a post is stored), then answered with `status`
    /// and this raw body instead of its JSON.
    pub fn processed_then_status_next(&self, method: &str, status: u16, body: &str) {
        self.push_fault(method, Fault::ProcessedThen(status, body.to_string()));
    }

    /// The next POST to an upload URL answers `status`; its bytes are not kept.
    pub fn fail_upload_next(&self, status: u16) {
        lock(&self.inner).upload_faults.push_back(status);
    }

    /// The next `files.getUploadURLExternal` answers with this `upload_url` (a misbehaving
    /// Slack, or a proxy rewriting its answers) instead of the stand-in's own.
    pub fn upload_url_next(&self, url: &str) {
        lock(&self.inner).upload_urls.push_back(url.to_string());
    }

    // ---- accessors --------------------------------------------------------------------------

    /// Every call to `/api/…`, in the order they were handled.
    pub fn calls(&self) -> Vec<ApiCall> {
        lock(&self.inner).calls.clone()
    }

    /// Blocks until at least `n` calls of `method` were handled; returns those calls.
    pub fn wait_calls(&self, method: &str, n: usize) -> Vec<ApiCall> {
        wait_for(
            &self.inner,
            &self.cv,
            |s| {
                let calls: Vec<ApiCall> = s
                    .calls
                    .iter()
                    .filter(|c| c.method == method)
                    .cloned()
                    .collect();
                (calls.len() >= n).then_some(calls)
            },
            |s| {
                let seen: Vec<&str> = s.calls.iter().map(|c| c.method.as_str()).collect();
                format!("{n} call(s) of Slack's {method} (calls so far: {seen:?})")
            },
        )
    }

    /// The top-level messages of a channel in posting order, each with its thread replies.
    pub fn messages(&self, channel_id: &str) -> Vec<ApiMessage> {
        let s = lock(&self.inner);
        let in_channel = || s.messages.iter().filter(|m| m.channel == channel_id);
        in_channel()
            .filter(|m| m.thread_ts.is_none())
            .map(|parent| ApiMessage {
                replies: in_channel()
                    .filter(|r| r.thread_ts.as_deref() == Some(parent.ts.as_str()))
                    .cloned()
                    .collect(),
                ..parent.clone()
            })
            .collect()
    }

    /// Every file announced, completed or not.
    pub fn files(&self) -> Vec<ApiFile> {
        lock(&self.inner).files.clone()
    }

    /// Every ephemeral message, in order.
    pub fn ephemerals(&self) -> Vec<Ephemeral> {
        lock(&self.inner).ephemerals.clone()
    }

    /// The message `ts` of `channel` as Slack shows it to a client (and sends it back in a
    /// click's payload): `type`, `ts`, `user`, `bot_id`, `text`, `blocks`, `attachments`,
    /// `metadata`, thread fields. Panics if there is no such message.
    pub fn shown(&self, channel: &str, ts: &str) -> Value {
        let shown = lock(&self.inner).render(channel, ts, true);
        assert!(!shown.is_null(), "no message {ts} in {channel}");
        shown
    }

    // ---- serving ----------------------------------------------------------------------------

    pub fn handle(&self, mut rq: tiny_http::Request) {
        let incoming = Incoming::read(&mut rq);
        let received = Instant::now();
        let arrival = super::arrival();
        let path = incoming.path().to_string();
        if let Some(file_id) = path.strip_prefix("/upload/") {
            return self.handle_upload(rq, &incoming, file_id);
        }
        let method = match path.strip_prefix("/api/") {
            Some(m) if !m.is_empty() && !m.contains('/') => m.to_string(),
            _ => return respond(rq, 404, &[TEXT], "Not Found"),
        };
        // Choice: Slack also takes GET with a query string; the stand-in accepts both.
        if incoming.method != "POST" && incoming.method != "GET" {
            return respond(rq, 405, &[TEXT], "Method Not Allowed");
        }
        let content_type = incoming.header("Content-Type");
        let request = parse_request(&incoming, content_type.as_deref());
        let auth_header = incoming.header("Authorization");
        let token = match (&auth_header, request.encoding) {
            (Some(h), _) => bearer(h),
            // A JSON body cannot carry the token (Slack: header only).
            (None, Encoding::Form | Encoding::Other) => {
                request.params.get("token").and_then(as_string)
            }
            (None, Encoding::Json) => None,
        };
        let fault = lock(&self.inner)
            .faults
            .get_mut(&method)
            .and_then(VecDeque::pop_front);

        let over = match (&fault, method.as_str(), request.params.get("channel")) {
            (None, "chat.postMessage", Some(Value::String(channel))) => {
                self.over_limit(channel, received)
            }
            _ => None,
        };
        let answer = match &fault {
            _ if matches!(over, Some((Over::Refuse, _))) => {
                let wait = over.map_or(1, |(_, d)| d.as_secs_f64().ceil().max(1.0) as u64);
                let mut a = Answer::json(429, json!({"ok": false, "error": "ratelimited"}));
                a.headers.push(("Retry-After".into(), wait.to_string()));
                a
            }
            Some(Fault::Fail(error)) => Answer::json(200, json!({"ok": false, "error": error})),
            Some(Fault::RateLimit(secs)) => {
                let mut a = Answer::json(429, json!({"ok": false, "error": "ratelimited"}));
                a.headers.push(("Retry-After".into(), secs.to_string()));
                a
            }
            Some(Fault::Status(status, body)) => Answer::raw(*status, body),
            _ => {
                let outcome = match &request.error {
                    Some(e) => Err(e.clone()),
                    None => self.process(
                        &method,
                        auth_header.is_some(),
                        token.clone(),
                        &request.params,
                    ),
                };
                let mut json = match outcome {
                    Ok(Value::Object(mut fields)) => {
                        let mut out = Map::new();
                        out.insert("ok".into(), true.into());
                        out.append(&mut fields);
                        Value::Object(out)
                    }
                    Ok(other) => other,
                    Err(error) => json!({"ok": false, "error": error}),
                };
                // Slack accepts `application/json` without a charset, with a warning.
                if request.missing_charset {
                    json["warning"] = "missing_charset".into();
                    json["response_metadata"]["warnings"] = json!(["missing_charset"]);
                }
                if let (Some(_), Some(ts)) = (over, json.get("ts").and_then(Value::as_str)) {
                    let mut s = lock(&self.inner);
                    if let Some(i) = s.messages.iter().position(|m| m.ts == ts) {
                        let message = s.messages.remove(i);
                        s.hidden.push(message);
                    }
                }
                Answer::json(200, json)
            }
        };

        let call = ApiCall {
            received,
            arrival,
            method,
            content_type,
            encoding: request.encoding,
            auth_header: auth_header.is_some(),
            token,
            params: Value::Object(request.params),
            body: incoming.body_string(),
            status: answer.status,
            answer: answer.json.clone(),
            fault: fault.clone(),
        };
        lock(&self.inner).calls.push(call);
        self.cv.notify_all();

        match fault {
            Some(Fault::LoseAnswer) => self.drop_connection(rq),
            Some(Fault::Delay(delay)) => {
                std::thread::sleep(delay);
                answer.send(rq);
            }
            // The call above records what it would have answered.
            Some(Fault::ProcessedThen(status, body)) => Answer::raw(status, &body).send(rq),
            _ => answer.send(rq),
        }
    }

    /// Shuts the request's connection down without answering. tiny_http answers 500 when a
    /// request is dropped unanswered, and `into_writer` alone leaves a kept-alive connection
    /// open (the client would wait for its own timeout); so the server's end of the socket is
    /// found among this process's descriptors and shut down: the client reads EOF.
    fn drop_connection(&self, rq: tiny_http::Request) {
        let peer = rq.remote_addr().copied();
        // Take the writer first so that nothing (not even tiny_http's 500) is written.
        let writer = rq.into_writer();
        let shut = match (self.addr.get(), peer) {
            (Some(local), Some(peer)) => shut_socket(*local, peer),
            _ => false,
        };
        if !shut {
            eprintln!("emulator: slack-api could not find the connection to drop ({peer:?})");
        }
        drop(writer);
    }

    fn handle_upload(&self, rq: tiny_http::Request, incoming: &Incoming, file_id: &str) {
        if incoming.method != "POST" {
            return respond(rq, 405, &[TEXT], "Method Not Allowed");
        }
        // Multipart (which Slack also accepts): the first part's content is the file.
        let content_type = incoming.header("Content-Type").unwrap_or_default();
        let bytes = match multipart_boundary(&content_type) {
            Some(boundary) => match multipart_first_part(&incoming.body, &boundary) {
                Some(bytes) => bytes,
                None => return respond(rq, 400, &[TEXT], "malformed multipart body"),
            },
            None => incoming.body.clone(),
        };
        let (status, body) = {
            let mut s = lock(&self.inner);
            let fault = s.upload_faults.pop_front();
            match s.files.iter_mut().find(|f| f.id == file_id) {
                // Choice: an unknown id, or one already completed, is a 404.
                None => (404, "file not found".to_string()),
                Some(f) => {
                    let (status, body) = match fault {
                        _ if f.completed => (404, "file not found".to_string()),
                        Some(status) => (status, "upload failed".to_string()),
                        // Choice: the announced length must match exactly (Slack's answer to
                        // a mismatch is not documented).
                        None if bytes.len() != f.length => (
                            400,
                            format!(
                                "length mismatch: announced {}, received {}",
                                f.length,
                                bytes.len()
                            ),
                        ),
                        // Choice: uploading again before completion replaces the bytes (a
                        // retry after a lost answer must work).
                        None => {
                            f.bytes = Some(bytes);
                            (200, format!("OK - {}", f.length))
                        }
                    };
                    f.upload_statuses.push(status);
                    f.upload_headers.extend(incoming.headers.iter().cloned());
                    (status, body)
                }
            }
        };
        self.cv.notify_all();
        respond(rq, status, &[TEXT], body);
    }

    fn process(&self, method: &str, header: bool, token: Option<String>, p: &Params) -> Outcome {
        let mut s = lock(&self.inner);
        let token = match token {
            None if header => return Err("invalid_auth".into()),
            None => return Err("not_authed".into()),
            Some(t) if s.revoked.contains(&t) => return Err("token_revoked".into()),
            Some(t) if !s.tokens.contains(&t) => return Err("invalid_auth".into()),
            Some(t) => t,
        };
        match method {
            // Choice: no `app_id` unless a test sets one. Slack's documented answer and the
            // answers reported for bot tokens name `team_id`, `user_id` and `bot_id`; its SDKs
            // type `app_id` as optional. So the bootstrap must not need it.
            "auth.test" => {
                let mut answer = json!({
                    "url": "https://emulator.slack.com/", "team": "Emulator", "user": "alarm-bot",
                    "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
                    "is_enterprise_install": false,
                });
                if let Some(app) = &s.app_id {
                    answer["app_id"] = app.clone().into();
                }
                Ok(answer)
            }
            "chat.postMessage" => s.post_message(&token, p),
            "chat.update" => s.update(&token, p),
            "chat.postEphemeral" => s.post_ephemeral(p),
            "usergroups.users.list" => s.usergroup_users(p),
            "conversations.history" => s.history(p),
            "conversations.replies" => s.replies(p),
            "files.getUploadURLExternal" => s.get_upload_url(p, &self.base()),
            "files.completeUploadExternal" => s.complete_upload(&token, p),
            // Choice: HTTP 200, like every other method failure.
            _ => Err("unknown_method".into()),
        }
    }
}

impl Inner {
    /// A ts from the wall clock (so that `oldest`/`latest` work as on Slack), strictly
    /// increasing across the emulator.
    fn next_ts(&mut self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        self.last_ts_micros = now.max(self.last_ts_micros + 1);
        format_ts(self.last_ts_micros)
    }

    /// `by_name`: `#name` and `name` are accepted as well as an ID. Checks archive and membership.
    fn channel(&self, given: Option<String>, by_name: bool) -> Result<String, String> {
        let given = given.ok_or("channel_not_found")?;
        let id = if self.channels.contains_key(&given) {
            given
        } else if by_name {
            let name = given.trim_start_matches('#');
            self.channels
                .iter()
                .find(|(_, c)| c.name == name)
                .map(|(id, _)| id.clone())
                .ok_or("channel_not_found")?
        } else {
            return Err("channel_not_found".into());
        };
        let channel = &self.channels[&id];
        if channel.archived {
            Err("is_archived".into())
        } else if !channel.member {
            Err("not_in_channel".into())
        } else {
            Ok(id)
        }
    }

    /// A `thread_ts` must be shaped like a ts (`invalid_thread_ts`, as Slack answers for e.g.
    /// "0" or "") and be a top-level message of `channel`.
    ///
    /// Choice: Slack accepts a well-formed but unknown `thread_ts` silently in some cases (the
    /// reply lands in a thread nobody sees, slackapi/python-slack-sdk#840), and a reply's ts is
    /// not a thread. The stand-in answers `thread_not_found` for both, so that the bootstrap's
    /// threading bugs fail loudly here.
    fn thread(&self, channel: &str, thread_ts: Option<String>) -> Result<Option<String>, String> {
        let Some(ts) = thread_ts else {
            return Ok(None);
        };
        if !is_ts(&ts) {
            return Err("invalid_thread_ts".into());
        }
        let parent = self
            .messages
            .iter()
            .any(|m| m.channel == channel && m.ts == ts && m.thread_ts.is_none());
        if parent {
            Ok(Some(ts))
        } else {
            Err("thread_not_found".into())
        }
    }

    fn post_message(&mut self, token: &str, p: &Params) -> Outcome {
        let channel = self.channel(str_param(p, "channel"), true)?;
        let text = str_param(p, "text");
        let blocks = blocks_param(p)?;
        let attachments = attachments_param(p)?;
        if text.is_none() && blocks.is_none() && attachments.is_none() {
            return Err("no_text".into());
        }
        let metadata = match json_param(p, "metadata") {
            Err(()) => return Err("invalid_metadata_format".into()),
            Ok(None) => None,
            Ok(Some(m)) => Some(valid_metadata(m)?),
        };
        let thread_ts = self.thread(&channel, str_param(p, "thread_ts"))?;
        let reply_broadcast = thread_ts.is_some() && bool_param(p, "reply_broadcast") == Some(true);
        let mut message = ApiMessage {
            channel: channel.clone(),
            ts: self.next_ts(),
            text,
            blocks,
            attachments,
            metadata,
            thread_ts,
            reply_broadcast,
            unfurl_links: bool_param(p, "unfurl_links"),
            unfurl_media: bool_param(p, "unfurl_media"),
            files: Vec::new(),
            token: token.to_string(),
            versions: Vec::new(),
            replies: Vec::new(),
        };
        message.versions.push(message.version());
        let ts = message.ts.clone();
        self.messages.push(message);
        Ok(json!({"channel": channel, "ts": ts, "message": self.render(&channel, &ts, true)}))
    }

    fn update(&mut self, token: &str, p: &Params) -> Outcome {
        // chat.update takes an ID only: a name is `channel_not_found`.
        let channel = self.channel(str_param(p, "channel"), false)?;
        let ts = str_param(p, "ts").ok_or("message_not_found")?;
        let text = str_param(p, "text");
        if text.as_ref().is_some_and(|t| t.chars().count() > 4_000) {
            return Err("msg_too_long".into());
        }
        let blocks = blocks_param(p)?;
        let attachments = attachments_param(p)?;
        // `{}` clears the metadata; anything else must be well-formed.
        let metadata = match json_param(p, "metadata") {
            Err(()) => return Err("invalid_metadata_format".into()),
            Ok(None) => None,
            Ok(Some(m)) if m.as_object().is_some_and(Map::is_empty) => Some(None),
            Ok(Some(m)) => Some(Some(valid_metadata(m)?)),
        };
        let broadcast = bool_param(p, "reply_broadcast") == Some(true);
        let message = self
            .messages
            .iter_mut()
            .find(|m| m.channel == channel && m.ts == ts)
            .ok_or("message_not_found")?;
        if message.token != token {
            return Err("cant_update_message".into());
        }
        // Omitted fields are kept; `[]` clears blocks/attachments (stored as None).
        if let Some(text) = text {
            message.text = Some(text);
        }
        if let Some(blocks) = blocks {
            message.blocks = non_empty(blocks);
        }
        if let Some(attachments) = attachments {
            message.attachments = non_empty(attachments);
        }
        if let Some(metadata) = metadata {
            message.metadata = metadata;
        }
        if broadcast && message.thread_ts.is_some() {
            message.reply_broadcast = true;
        }
        let version = message.version();
        message.versions.push(version);
        let text = message.text.clone().unwrap_or_default();
        Ok(json!({
            "channel": channel, "ts": ts, "text": text,
            "message": self.render(&channel, &ts, true),
        }))
    }

    /// `chat.postEphemeral`: `channel` (ID or name), `user`, and `text`, `blocks` or
    /// `attachments`. Answers `message_ts`; the message is kept apart from the channel's.
    ///
    /// Choice: a missing `user` is `user_not_found` (Slack's code for it is not documented);
    /// a `thread_ts` must be a parent in the channel, as for `chat.postMessage`.
    fn post_ephemeral(&mut self, p: &Params) -> Outcome {
        let channel = self.channel(str_param(p, "channel"), true)?;
        let user = str_param(p, "user").ok_or("user_not_found")?;
        let in_channel = self.channels[&channel]
            .users
            .as_ref()
            .is_none_or(|users| users.contains(&user));
        if !in_channel {
            return Err("user_not_in_channel".into());
        }
        let text = str_param(p, "text");
        let blocks = blocks_param(p)?;
        if text.is_none() && blocks.is_none() && attachments_param(p)?.is_none() {
            return Err("no_text".into());
        }
        let thread_ts = self.thread(&channel, str_param(p, "thread_ts"))?;
        let shown = thread_ts.as_ref().is_none_or(|parent| {
            self.messages
                .iter()
                .any(|m| m.channel == channel && m.thread_ts.as_ref() == Some(parent))
        });
        let message_ts = self.next_ts();
        self.ephemerals.push(Ephemeral {
            channel,
            user,
            text,
            blocks,
            thread_ts,
            message_ts: message_ts.clone(),
            shown,
        });
        Ok(json!({"message_ts": message_ts}))
    }

    /// `usergroups.users.list`: the members of `usergroup`. Choice: disabled groups are not
    /// modelled (`include_disabled` is ignored); a missing or unknown group is
    /// `no_such_subteam`.
    fn usergroup_users(&self, p: &Params) -> Outcome {
        let group = str_param(p, "usergroup").ok_or("no_such_subteam")?;
        let users = self.usergroups.get(&group).ok_or("no_such_subteam")?;
        Ok(json!({"users": users}))
    }

    /// Newest first; top-level messages and replies broadcast to the channel (as Slack shows
    /// them, with subtype `thread_broadcast`), never plain thread replies.
    fn history(&self, p: &Params) -> Outcome {
        let channel = self.channel(str_param(p, "channel"), false)?;
        let bound = |key: &str, error: &str| match str_param(p, key) {
            None => Ok(None),
            Some(v) => parse_ts(&v).map(Some).ok_or_else(|| error.to_string()),
        };
        let oldest = bound("oldest", "invalid_ts_oldest")?;
        let latest = bound("latest", "invalid_ts_latest")?;
        let inclusive = bool_param(p, "inclusive") == Some(true);
        // Choice: an absent, empty or 0 limit means Slack's default 100; above 999 is 999;
        // anything not a number is `invalid_arguments`.
        let limit = match str_param(p, "limit") {
            None => 100,
            Some(l) => match l.parse::<usize>() {
                Ok(0) => 100,
                Ok(n) => n.min(999),
                Err(_) => return Err("invalid_arguments".into()),
            },
        };
        let with_metadata = bool_param(p, "include_all_metadata") == Some(true);
        // The cursor is `next_ts:<ts>` in base64 like Slack's: start at that ts (inclusive).
        let start = match str_param(p, "cursor") {
            None => None,
            Some(c) => Some(
                base64_decode(&c)
                    .and_then(|raw| String::from_utf8(raw).ok())
                    .and_then(|raw| raw.strip_prefix("next_ts:").and_then(parse_ts))
                    .ok_or("invalid_cursor")?,
            ),
        };
        let mut selected: Vec<&ApiMessage> = self
            .messages
            .iter()
            .filter(|m| m.channel == channel && (m.thread_ts.is_none() || m.reply_broadcast))
            .filter(|m| {
                let ts = parse_ts(&m.ts).unwrap_or(0);
                let after = oldest.is_none_or(|o| if inclusive { ts >= o } else { ts > o });
                let before = latest.is_none_or(|l| if inclusive { ts <= l } else { ts < l });
                after && before && start.is_none_or(|s| ts <= s)
            })
            .collect();
        selected.reverse();
        let has_more = selected.len() > limit;
        let next = selected.get(limit).map(|m| m.ts.clone());
        let messages: Vec<Value> = selected
            .iter()
            .take(limit)
            .map(|m| self.render(&channel, &m.ts, with_metadata))
            .collect();
        // Choice: `next_cursor` is "" at the end (clients must treat "" as "no more").
        let next_cursor = next
            .map(|ts| base64_encode(format!("next_ts:{ts}").as_bytes()))
            .unwrap_or_default();
        Ok(json!({
            "messages": messages, "has_more": has_more, "pin_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }))
    }

    /// `conversations.replies`: the thread of `ts` (its parent first, then the replies in
    /// order), within `oldest` when given. Choice: no pagination (threads here are short);
    /// an unknown `ts` is `thread_not_found`.
    fn replies(&self, p: &Params) -> Outcome {
        let channel = self.channel(str_param(p, "channel"), false)?;
        let ts = str_param(p, "ts").ok_or("invalid_arguments")?;
        let oldest = match str_param(p, "oldest") {
            None => None,
            Some(v) => Some(parse_ts(&v).ok_or("invalid_ts_oldest")?),
        };
        if !self
            .messages
            .iter()
            .any(|m| m.channel == channel && m.ts == ts)
        {
            return Err("thread_not_found".into());
        }
        let with_metadata = bool_param(p, "include_all_metadata") == Some(true);
        let messages: Vec<Value> = self
            .messages
            .iter()
            .filter(|m| m.channel == channel)
            .filter(|m| m.ts == ts || m.thread_ts.as_deref() == Some(ts.as_str()))
            .filter(|m| m.ts == ts || oldest.is_none_or(|o| parse_ts(&m.ts).unwrap_or(0) > o))
            .map(|m| self.render(&channel, &m.ts, with_metadata))
            .collect();
        Ok(json!({"messages": messages, "has_more": false,
            "response_metadata": {"next_cursor": ""}}))
    }

    /// Choice: a missing filename or a length that is not a positive integer answers
    /// `invalid_arguments` (Slack's exact code for these is not documented).
    fn get_upload_url(&mut self, p: &Params, base: &str) -> Outcome {
        let filename = str_param(p, "filename").ok_or("invalid_arguments")?;
        let length = str_param(p, "length")
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|l| *l > 0)
            .ok_or("invalid_arguments")?;
        let id = format!("F0EMU{:06}", self.files.len() + 1);
        self.files.push(ApiFile {
            id: id.clone(),
            filename,
            length,
            alt_txt: str_param(p, "alt_txt"),
            bytes: None,
            upload_statuses: Vec::new(),
            upload_headers: Vec::new(),
            completed: false,
            title: None,
            channel: None,
            thread_ts: None,
            initial_comment: None,
        });
        let url = self
            .upload_urls
            .pop_front()
            .unwrap_or_else(|| format!("{base}/upload/{id}"));
        Ok(json!({"upload_url": url, "file_id": id}))
    }

    /// Slack says to call it exactly once per upload. Choice: an unknown id, one whose bytes
    /// never arrived, or one already completed all answer `file_not_found`, and nothing of the
    /// call is shared. A shared file also posts a message (top-level or in the thread) carrying
    /// the file ids and `initial_comment`, as Slack shows shares.
    fn complete_upload(&mut self, token: &str, p: &Params) -> Outcome {
        let files = match json_param(p, "files") {
            Ok(Some(Value::Array(files))) if !files.is_empty() => files,
            _ => return Err("invalid_arguments".into()),
        };
        let mut wanted = Vec::new();
        for f in &files {
            let id = f["id"].as_str().ok_or("invalid_arguments")?;
            let known = self
                .files
                .iter()
                .any(|x| x.id == id && x.bytes.is_some() && !x.completed);
            if !known {
                return Err("file_not_found".into());
            }
            wanted.push((id.to_string(), f["title"].as_str().map(str::to_string)));
        }
        // `channels` (comma-separated) is the older form; only its first entry is used.
        let given = str_param(p, "channel_id").or_else(|| {
            str_param(p, "channels").map(|c| c.split(',').next().unwrap_or("").to_string())
        });
        let channel = match given {
            Some(c) => Some(self.channel(Some(c), false)?),
            None => None,
        };
        let thread_ts = match (&channel, str_param(p, "thread_ts")) {
            (Some(c), t) => self.thread(c, t)?,
            // Choice: a thread without a channel is `invalid_arguments`.
            (None, Some(_)) => return Err("invalid_arguments".into()),
            (None, None) => None,
        };
        let comment = str_param(p, "initial_comment");
        let mut answered = Vec::new();
        for (id, title) in &wanted {
            let file = self
                .files
                .iter_mut()
                .find(|f| &f.id == id)
                .expect("checked above");
            file.completed = true;
            file.title = Some(title.clone().unwrap_or_else(|| file.filename.clone()));
            file.channel = channel.clone();
            file.thread_ts = thread_ts.clone();
            file.initial_comment = comment.clone();
            answered.push(json!({"id": id, "title": file.title}));
        }
        if let Some(channel) = channel {
            let mut message = ApiMessage {
                channel,
                ts: self.next_ts(),
                text: comment,
                blocks: None,
                attachments: None,
                metadata: None,
                thread_ts,
                reply_broadcast: false,
                unfurl_links: None,
                unfurl_media: None,
                files: wanted.into_iter().map(|(id, _)| id).collect(),
                token: token.to_string(),
                versions: Vec::new(),
                replies: Vec::new(),
            };
            message.versions.push(message.version());
            self.messages.push(message);
        }
        Ok(json!({"files": answered}))
    }

    /// A message as Slack's answers show it.
    fn render(&self, channel: &str, ts: &str, with_metadata: bool) -> Value {
        let Some(m) = self
            .messages
            .iter()
            .find(|m| m.channel == channel && m.ts == ts)
        else {
            return Value::Null;
        };
        let mut out = json!({
            "type": "message", "ts": m.ts, "user": BOT_USER_ID, "bot_id": BOT_ID,
            "team": TEAM_ID, "text": m.text.clone().unwrap_or_default(),
        });
        if let Some(blocks) = &m.blocks {
            out["blocks"] = blocks.clone();
        }
        if let Some(attachments) = &m.attachments {
            out["attachments"] = attachments.clone();
        }
        if with_metadata {
            if let Some(metadata) = &m.metadata {
                out["metadata"] = metadata.clone();
            }
        }
        if !m.files.is_empty() {
            let files: Vec<Value> = m
                .files
                .iter()
                .filter_map(|id| self.files.iter().find(|f| &f.id == id))
                .map(|f| json!({"id": f.id, "name": f.filename, "title": f.title}))
                .collect();
            out["files"] = files.into();
            out["upload"] = true.into();
        }
        if m.versions.len() > 1 {
            out["edited"] = json!({"user": BOT_USER_ID, "ts": m.ts});
        }
        match &m.thread_ts {
            Some(parent) => {
                out["thread_ts"] = parent.clone().into();
                if m.reply_broadcast {
                    out["subtype"] = "thread_broadcast".into();
                }
            }
            None => {
                let replies: Vec<&ApiMessage> = self
                    .messages
                    .iter()
                    .filter(|r| r.channel == channel && r.thread_ts.as_deref() == Some(ts))
                    .collect();
                if let Some(last) = replies.last() {
                    out["thread_ts"] = m.ts.clone().into();
                    out["reply_count"] = replies.len().into();
                    out["reply_users_count"] = 1.into();
                    out["reply_users"] = json!([BOT_USER_ID]);
                    out["latest_reply"] = last.ts.clone().into();
                }
            }
        }
        out
    }
}

// ---- requests and answers -------------------------------------------------------------------

struct Request {
    encoding: Encoding,
    params: Params,
    /// `application/json` without `charset=`.
    missing_charset: bool,
    /// A body that cannot be read (`invalid_json`, `invalid_form_data`).
    error: Option<String>,
}

/// Query-string arguments, overridden by the body's.
fn parse_request(incoming: &Incoming, content_type: Option<&str>) -> Request {
    let mut params: Params = incoming
        .url
        .split_once('?')
        .map(|(_, q)| form_decode(q))
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let content_type = content_type.unwrap_or("").to_ascii_lowercase();
    let mut parts = content_type.split(';').map(str::trim);
    let mime = parts.next().unwrap_or("");
    let has_charset = parts.any(|p| p.starts_with("charset="));
    let mut request = Request {
        encoding: Encoding::Other,
        params: Params::new(),
        missing_charset: false,
        error: None,
    };
    match mime {
        "application/json" => {
            request.encoding = Encoding::Json;
            request.missing_charset = !has_charset;
            match serde_json::from_slice::<Value>(&incoming.body) {
                Ok(Value::Object(body)) => params.extend(body),
                _ => request.error = Some("invalid_json".into()),
            }
        }
        "application/x-www-form-urlencoded" => {
            request.encoding = Encoding::Form;
            match std::str::from_utf8(&incoming.body) {
                Ok(body) => params.extend(
                    form_decode(body)
                        .into_iter()
                        .map(|(k, v)| (k, Value::String(v))),
                ),
                Err(_) => request.error = Some("invalid_form_data".into()),
            }
        }
        _ => {}
    }
    request.params = params;
    request
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    json: Value,
}

impl Answer {
    fn json(status: u16, json: Value) -> Answer {
        Answer {
            status,
            headers: vec![(JSON.0.into(), JSON.1.into())],
            body: json.to_string(),
            json,
        }
    }

    /// HTML for a body that looks like it, else plain text; `json` is kept when it parses.
    fn raw(status: u16, body: &str) -> Answer {
        let content_type = if body.trim_start().starts_with('<') {
            "text/html; charset=utf-8"
        } else {
            TEXT.1
        };
        Answer {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.to_string(),
            json: serde_json::from_str(body).unwrap_or(Value::Null),
        }
    }

    fn send(self, rq: tiny_http::Request) {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        respond(rq, self.status, &headers, self.body);
    }
}

/// `Bearer <token>` (scheme case-insensitive); anything else is no token.
fn bearer(header: &str) -> Option<String> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// `application/x-www-form-urlencoded`: `+` is a space, then percent-decoding.
fn form_decode(s: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    s.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A string argument; an empty string counts as absent (as a form field would).
fn str_param(p: &Params, key: &str) -> Option<String> {
    p.get(key).and_then(as_string)
}

/// `true`/`1` and `false`/`0` as strings or JSON booleans.
fn bool_param(p: &Params, key: &str) -> Option<bool> {
    match p.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" | "" => Some(false),
            _ => None,
        },
        Value::Number(n) => Some(n.as_u64() == Some(1)),
        _ => None,
    }
}

/// A JSON argument, given as JSON or (as forms must) as a string holding JSON.
fn json_param(p: &Params, key: &str) -> Result<Option<Value>, ()> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| ()),
        Some(v) => Ok(Some(v.clone())),
    }
}

fn blocks_param(p: &Params) -> Result<Option<Value>, String> {
    match json_param(p, "blocks") {
        Ok(None) => Ok(None),
        Ok(Some(Value::Array(b))) if b.len() > 50 => Err("invalid_blocks".into()),
        Ok(Some(b @ Value::Array(_))) => Ok(Some(b)),
        _ => Err("invalid_blocks_format".into()),
    }
}

fn attachments_param(p: &Params) -> Result<Option<Value>, String> {
    match json_param(p, "attachments") {
        Ok(None) => Ok(None),
        Ok(Some(Value::Array(a))) if a.len() > 100 => Err("too_many_attachments".into()),
        Ok(Some(a @ Value::Array(_))) => Ok(Some(a)),
        _ => Err("invalid_attachments".into()),
    }
}

fn non_empty(v: Value) -> Option<Value> {
    match &v {
        Value::Array(a) if a.is_empty() => None,
        _ => Some(v),
    }
}

/// `{"event_type": non-empty string, "event_payload": object}`. Choice: other keys are
/// tolerated (Slack's handling of them is undocumented).
fn valid_metadata(m: Value) -> Result<Value, String> {
    let ok =
        m["event_type"].as_str().is_some_and(|t| !t.is_empty()) && m["event_payload"].is_object();
    if ok {
        Ok(m)
    } else {
        Err("invalid_metadata_format".into())
    }
}

// ---- ts ----------------------------------------------------------------------------------

fn format_ts(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// Exactly `seconds.micros` (6 digits), as Slack hands them out.
fn is_ts(ts: &str) -> bool {
    match ts.split_once('.') {
        Some((secs, micros)) => {
            !secs.is_empty()
                && secs.bytes().all(|b| b.is_ascii_digit())
                && micros.len() == 6
                && micros.bytes().all(|b| b.is_ascii_digit())
                && secs != "0"
        }
        None => false,
    }
}

/// `seconds` or `seconds.fraction` (up to 6 digits) as microseconds.
fn parse_ts(ts: &str) -> Option<u64> {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if secs.is_empty() || !digits(secs) || !digits(frac) || frac.len() > 6 {
        return None;
    }
    let micros: u64 = format!("{frac:0<6}").parse().ok()?;
    secs.parse::<u64>()
        .ok()?
        .checked_mul(1_000_000)?
        .checked_add(micros)
}

// ---- small codecs ------------------------------------------------------------------------

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = B64.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn multipart_boundary(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    if !lower.starts_with("multipart/form-data") {
        return None;
    }
    content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
}

fn multipart_first_part(body: &[u8], boundary: &str) -> Option<Vec<u8>> {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let delimiter = format!("--{boundary}");
    let start = find(body, delimiter.as_bytes())? + delimiter.len();
    let rest = &body[start..];
    let content = &rest[find(rest, b"\r\n\r\n")? + 4..];
    let end = find(content, format!("\r\n--{boundary}").as_bytes())?;
    Some(content[..end].to_vec())
}

/// Shuts down the socket of the connection `peer` → `local` (this process's server end).
fn shut_socket(local: SocketAddr, peer: SocketAddr) -> bool {
    use std::os::fd::{BorrowedFd, RawFd};
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return false;
    };
    let mut shut = false;
    for entry in dir.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<RawFd>().ok())
        else {
            continue;
        };
        // SAFETY: only getsockname/getpeername/shutdown are called on the borrowed fd, and
        // nothing closes it here. Another thread could close it meanwhile and the number be
        // reused; then these calls fail or the addresses do not match (a test harness risk
        // accepted: it needs a new socket with the very same address pair).
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let sock = socket2::SockRef::from(&borrowed);
        let addr = |a: std::io::Result<socket2::SockAddr>| a.ok().and_then(|a| a.as_socket());
        if addr(sock.local_addr()) == Some(local) && addr(sock.peer_addr()) == Some(peer) {
            shut |= sock.shutdown(Shutdown::Both).is_ok();
        }
    }
    shut
}
