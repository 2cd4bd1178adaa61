"""Shape of docs/slack-app-manifest.yaml: the sections Slack's manifest schema knows, the required
fields (length limits are not checked here), exactly the scopes alarm-to-slack needs (docs/slack-app-manifest.yaml says why),
and what comes back to the app: the buttons' clicks (interactivity, to an https request URL), no events.
Run by `make test` with the test-services venv's python (PyYAML comes with moto)."""
import sys

import yaml

SECTIONS = {"_metadata", "display_information", "features", "oauth_config", "settings", "functions",
            "workflows", "datastores", "outgoing_domains", "types"}
SCOPES = ["incoming-webhook", "chat:write", "channels:history", "groups:history", "files:write",
          "usergroups:read"]


def check(path):
    with open(path, encoding="utf-8") as f:
        m = yaml.safe_load(f)
    problems = []
    unknown = set(m) - SECTIONS
    if unknown:
        problems.append(f"unknown top-level sections {sorted(unknown)}")
    if m.get("_metadata", {}).get("major_version") not in (1, 2):
        problems.append("_metadata.major_version must be 1 or 2")
    info = m.get("display_information", {})
    if not info.get("name"):
        problems.append("display_information.name is required")
    bot = m.get("oauth_config", {}).get("scopes", {}).get("bot", [])
    if bot != SCOPES:
        problems.append(f"bot scopes {bot}, expected {SCOPES}")
    if m.get("oauth_config", {}).get("scopes", {}).get("user"):
        problems.append("no user scopes: the app acts as its bot only")
    user = m.get("features", {}).get("bot_user", {})
    if not user.get("display_name"):
        problems.append("features.bot_user.display_name: bot scopes need a bot user")
    settings = m.get("settings", {})
    if "event_subscriptions" in settings:
        problems.append("settings.event_subscriptions: no events come back to this app, only clicks")
    problems.extend(interactivity_problems(settings))
    return problems


def interactivity_problems(settings):
    """The buttons' clicks: Slack posts them to request_url, which must be https (the function's
    URL is); nothing else interactive (no external select menus) is served."""
    problems = []
    interactivity = settings.get("interactivity")
    if not isinstance(interactivity, dict):
        return ["settings.interactivity is missing: the buttons' clicks need it"]
    if interactivity.get("is_enabled") is not True:
        problems.append("settings.interactivity.is_enabled must be true")
    url = interactivity.get("request_url")
    rest = url[len("https://"):] if isinstance(url, str) and url.startswith("https://") else ""
    host = rest.split("/", 1)[0]
    if not host or any(c.isspace() for c in url):
        problems.append(f"settings.interactivity.request_url must be an https:// URL with a host, not {url!r}")
    extra = set(interactivity) - {"is_enabled", "request_url"}
    if extra:
        problems.append(f"settings.interactivity: {sorted(extra)} are not served by this app")
    # With Socket Mode on, Slack would send the clicks over a WebSocket instead of to request_url.
    if settings.get("socket_mode_enabled"):
        problems.append("settings.socket_mode_enabled must be false: clicks come to request_url")
    return problems


if __name__ == "__main__":
    path = sys.argv[1]
    problems = check(path)
    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{path}: the Slack app manifest has the expected shape, scopes and interactivity")
